package dev.credits.local;

import dev.credits.core.json.Json;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The alert function's event filter, read from template.yaml: it must pass every record in which an alert state can
 * move, and no plain charge. (The local runner applies the same patterns; Lambda applies them deployed.)
 */
class AlertFilterTest {
    private static List<Map<String, Object>> patterns() throws Exception {
        Template t = Template.read(Template.locate());
        Template.Function alerts = t.functions().stream().filter(f -> f.logicalId().equals("AlertFunction")).findFirst().orElseThrow();
        List<Map<String, Object>> out = new ArrayList<>();
        for (String p : alerts.streams().get(0).filterPatterns()) out.add(Json.parseObject(p));
        return out;
    }

    private static boolean invokes(String softAlert, String softHeadroom, String stopAlert) throws Exception {
        Map<String, Object> image = new java.util.LinkedHashMap<>();
        image.put("balance", Map.of("N", "100"));
        if (softAlert != null) image.put("softAlert", Map.of("S", softAlert));
        if (softHeadroom != null) image.put("softHeadroom", Map.of("N", softHeadroom));
        if (stopAlert != null) image.put("stopAlert", Map.of("S", stopAlert));
        Map<String, Object> record = Map.of("eventName", "MODIFY", "dynamodb", Map.of("NewImage", image));
        for (Map<String, Object> p : patterns()) if (StreamPoller.matches(p, record)) return true;
        return false;
    }

    @Test
    void passesOnlyRecordsWhereAnAlertStateCanMove() throws Exception {
        assertFalse(invokes("armed", "500000", null), "a charge above the soft limit");
        assertTrue(invokes("armed", "-1", null), "armed and below: a crossing");
        assertFalse(invokes("sent", "-250000", null), "a charge while already alerted below");
        assertTrue(invokes("sent", "0", null), "back at the soft limit: re-arm");
        assertTrue(invokes("sent", "7", null), "back above: re-arm");
        assertFalse(invokes(null, "-5", null), "no soft limit set");
        assertTrue(invokes(null, null, "pending"), "first refusal of a stop");
        assertFalse(invokes(null, null, "sent"), "already told about this stop");
        assertFalse(invokes(null, null, "armed"), "a plain charge");
    }
}
