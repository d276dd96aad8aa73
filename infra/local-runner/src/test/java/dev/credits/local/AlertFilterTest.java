package dev.credits.local;

import dev.credits.core.domain.Alerts;
import dev.credits.core.json.Json;
import dev.credits.core.store.AlertStore;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The alert function's event filter, read from template.yaml: it must pass every record in which the alert rules
 * ({@link Alerts#decide}) find an alert to send, and no plain charge. (The local runner applies the same patterns;
 * Lambda applies them deployed.) Each case is a stream record: the item before the write and after it.
 */
class AlertFilterTest {
    private static List<Map<String, Object>> patterns() throws Exception {
        Template t = Template.read(Template.locate());
        Template.Function alerts = t.functions().stream().filter(f -> f.logicalId().equals("AlertFunction")).findFirst().orElseThrow();
        List<Map<String, Object>> out = new ArrayList<>();
        for (String p : alerts.streams().get(0).filterPatterns()) out.add(Json.parseObject(p));
        return out;
    }

    /** An account item as the store writes it (micro-credits); softLimit null: none set. */
    private static Map<String, AttributeValue> item(String status, long balance, Long soft, long rev, String stopAlert) {
        Map<String, AttributeValue> m = new LinkedHashMap<>();
        m.put("accountId", AttributeValue.fromS("acme"));
        m.put("status", AttributeValue.fromS(status));
        m.put("balance", AttributeValue.fromN(Long.toString(balance)));
        m.put("hardLimit", AttributeValue.fromN("0"));
        // as on a real item: every balance write ADDs to softHeadroom, with or without a soft limit
        m.put("softHeadroom", AttributeValue.fromN(Long.toString(soft == null ? balance : balance - soft)));
        if (soft != null) m.put("softLimit", AttributeValue.fromN(Long.toString(soft)));
        m.put("rev", AttributeValue.fromN(Long.toString(rev)));
        if (stopAlert != null) {
            m.put("stopAlert", AttributeValue.fromS(stopAlert));
            m.put("stopEpisode", AttributeValue.fromN("1"));
        }
        return m;
    }

    private static Map<String, AttributeValue> active(long balance, Long soft, long rev) { return item("ACTIVE", balance, soft, rev, null); }

    private static Map<String, Object> doc(Map<String, AttributeValue> image) {
        Map<String, Object> out = new LinkedHashMap<>();
        image.forEach((k, v) -> out.put(k, v.s() != null ? Map.of("S", v.s()) : Map.of("N", v.n())));
        return out;
    }

    /** Whether the template's filter hands this record to the function. */
    private static boolean invokes(Map<String, AttributeValue> before, Map<String, AttributeValue> after) throws Exception {
        Map<String, Object> ddb = new LinkedHashMap<>();
        ddb.put("NewImage", doc(after));
        if (before != null) ddb.put("OldImage", doc(before));
        Map<String, Object> record = Map.of("eventName", before == null ? "INSERT" : "MODIFY", "dynamodb", ddb);
        for (Map<String, Object> p : patterns()) if (StreamPoller.matches(p, record)) return true;
        return false;
    }

    /** Asserts the filter's verdict, and that it is exactly "the rules send something" for this record. */
    private static void check(boolean expected, Map<String, AttributeValue> before, Map<String, AttributeValue> after, String what) throws Exception {
        boolean sends = !Alerts.decide(before == null ? null : AlertStore.image(before), AlertStore.image(after)).isEmpty();
        assertEquals(expected, sends, what + ": the alert rules");
        assertEquals(expected, invokes(before, after), what + ": the template's filter");
    }

    @Test
    void passesExactlyTheRecordsThatAreAnAlert() throws Exception {
        check(false, active(900_000, 500_000L, 1), active(550_000, 500_000L, 2), "a charge above the soft limit");
        check(true, active(550_000, 500_000L, 2), active(100_000, 500_000L, 3), "above to below: a crossing");
        check(true, active(500_000, 500_000L, 2), active(499_999, 500_000L, 3), "at to below: a crossing");
        check(false, active(100_000, 500_000L, 3), active(50_000, 500_000L, 4), "a charge while already below");
        check(false, active(100_000, 500_000L, 4), active(600_000, 500_000L, 5), "back above: nothing to send");
        check(false, active(600_000, 500_000L, 5), active(500_000, 500_000L, 6), "down to the soft limit, not below");
        check(false, active(100_000, null, 1), active(-5, null, 2), "no soft limit set");
        check(true, active(100_000, null, 1), active(100_000, 200_000L, 2), "a soft limit set above the balance");
        check(false, active(100_000, null, 1), active(100_000, 50_000L, 2), "a soft limit set below the balance");
        check(true, active(100_000, 50_000L, 1), active(100_000, 200_000L, 2), "a soft limit raised above the balance");
        check(false, active(100_000, 150_000L, 1), active(100_000, 200_000L, 2), "a soft limit raised while already below");
        check(true, active(-100_000, null, 1), active(-100_000, 200_000L, 2), "a soft limit set above a negative balance");
        check(false, null, active(0, 500_000L, 0), "created below its soft limit: nothing crossed yet");
        check(false, active(600_000, 500_000L, 5), item("CLOSED", 0, 500_000L, 6, null), "the forfeit of a closing account");
        check(true, active(0, null, 5), item("ACTIVE", 0, null, 5, "pending"), "first refusal of a stop");
        check(false, item("ACTIVE", 0, null, 5, "pending"), item("ACTIVE", 0, null, 5, "sent"), "already told about this stop");
        check(false, active(10, null, 5), item("ACTIVE", 0, null, 6, "armed"), "a plain charge");
    }
}
