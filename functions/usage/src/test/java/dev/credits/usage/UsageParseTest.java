package dev.credits.usage;

import dev.credits.core.domain.EntryType;
import dev.credits.core.domain.UsageEvent;
import dev.credits.core.http.ApiException;
import dev.credits.core.json.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Instant;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code UsageHandler.parse}: the validation of a usage body, before any pricing or storage. */
class UsageParseTest {

    private static Map<String, Object> json(String text) {
        try {
            return Json.parseObject(text);
        } catch (Json.MalformedJsonException e) {
            throw new AssertionError(text, e);
        }
    }

    private static UsageEvent parse(String text) {
        return UsageHandler.parse(json(text));
    }

    private static void assertRefused(String field, String body) {
        ApiException e = assertThrows(ApiException.class, () -> parse(body), body);
        assertEquals(400, e.status(), body);
        assertEquals("invalid_request", e.code(), body);
        assertEquals(field, e.details().get("field"), body + " -> " + e.getMessage());
    }

    // --- valid bodies --------------------------------------------------------------------------------

    @Test
    void parsesTheSpecAiTokensExample() {
        UsageEvent e = parse("""
                {"eventId": "evt-7f3a", "type": "ai_tokens", "model": "gpt-4o-mini", "inputTokens": 1200,
                 "outputTokens": 350, "occurredAt": "2026-11-24T10:00:00Z"}""");
        assertEquals(new UsageEvent.AiTokens("evt-7f3a", "gpt-4o-mini", 1200, 350,
                Instant.parse("2026-11-24T10:00:00Z")), e);
        assertEquals(EntryType.AI_TOKENS, e.type());
    }

    @Test
    void parsesTheSpecWorkloadUnitsExample() {
        UsageEvent e = parse("{\"eventId\": \"req-99c1\", \"type\": \"workload_units\", \"units\": 3}");
        UsageEvent.WorkloadUnits wu = assertInstanceOf(UsageEvent.WorkloadUnits.class, e);
        assertEquals("req-99c1", wu.eventId());
        assertEquals(3, wu.units());
        assertNull(wu.unitKind(), "no unit: the price book's default applies");
        assertNull(wu.occurredAt());
        assertEquals(EntryType.WORKLOAD_UNITS, e.type());
    }

    @Test
    void parsesOptionalPartsAndEdges() {
        assertEquals(new UsageEvent.WorkloadUnits("r", "gpu", 1, Instant.parse("2026-01-01T00:00:00Z")),
                parse("{\"eventId\":\"r\",\"type\":\"workload_units\",\"unit\":\"gpu\",\"units\":1,\"occurredAt\":\"2026-01-01T00:00:00Z\"}"));
        // one side of the tokens may be 0, and the maximum count is accepted
        assertEquals(new UsageEvent.AiTokens("e", "m", 0, 1_000_000_000_000L, null),
                parse("{\"eventId\":\"e\",\"type\":\"ai_tokens\",\"model\":\"m\",\"inputTokens\":0,\"outputTokens\":1000000000000}"));
        assertEquals(new UsageEvent.AiTokens("e", "m", 5, 0, null),
                parse("{\"eventId\":\"e\",\"type\":\"ai_tokens\",\"model\":\"m\",\"inputTokens\":5,\"outputTokens\":0}"));
        // 128-character eventId; a whole number written as 1e3 or 2.0
        String id = "i".repeat(128);
        assertEquals(new UsageEvent.AiTokens(id, "m", 1000, 2, null),
                parse("{\"eventId\":\"" + id + "\",\"type\":\"ai_tokens\",\"model\":\"m\",\"inputTokens\":1e3,\"outputTokens\":2.0}"));
    }

    // --- refused bodies: each names the field --------------------------------------------------------

    private static final String AI = "\"type\":\"ai_tokens\",\"model\":\"gpt-4o-mini\"";

    @ParameterizedTest(name = "[{index}] {0}: {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
            // eventId
            "eventId     | {" + AI + ",\"inputTokens\":1,\"outputTokens\":1}",
            "eventId     | {\"eventId\":null," + AI + ",\"inputTokens\":1,\"outputTokens\":1}",
            "eventId     | {\"eventId\":\"\"," + AI + ",\"inputTokens\":1,\"outputTokens\":1}",
            "eventId     | {\"eventId\":\"evt 1\"," + AI + ",\"inputTokens\":1,\"outputTokens\":1}",
            "eventId     | {\"eventId\":\" evt\"," + AI + ",\"inputTokens\":1,\"outputTokens\":1}",
            "eventId     | {\"eventId\":\"evt\\t1\"," + AI + ",\"inputTokens\":1,\"outputTokens\":1}",
            "eventId     | {\"eventId\":\"\u00e9vt\"," + AI + ",\"inputTokens\":1,\"outputTokens\":1}",
            "eventId     | {\"eventId\":7," + AI + ",\"inputTokens\":1,\"outputTokens\":1}",
            "eventId     | {\"eventId\":\"r 1\",\"type\":\"workload_units\",\"units\":1}",
            // type
            "type        | {\"eventId\":\"e\",\"model\":\"m\",\"inputTokens\":1,\"outputTokens\":1}",
            "type        | {\"eventId\":\"e\",\"type\":\"credits\",\"units\":1}",
            "type        | {\"eventId\":\"e\",\"type\":\"AI_TOKENS\",\"model\":\"m\",\"inputTokens\":1,\"outputTokens\":1}",
            "type        | {\"eventId\":\"e\",\"type\":\"grant\",\"units\":1}",
            "type        | {\"eventId\":\"e\",\"type\":null,\"units\":1}",
            "type        | {\"eventId\":\"e\",\"type\":1,\"units\":1}",
            // unknown fields
            "outputToken | {\"eventId\":\"e\"," + AI + ",\"inputTokens\":1,\"outputToken\":1}",
            "units       | {\"eventId\":\"e\"," + AI + ",\"inputTokens\":1,\"outputTokens\":1,\"units\":1}",
            "accountId   | {\"eventId\":\"e\"," + AI + ",\"inputTokens\":1,\"outputTokens\":1,\"accountId\":\"a\"}",
            "cost        | {\"eventId\":\"e\"," + AI + ",\"inputTokens\":1,\"outputTokens\":1,\"cost\":0}",
            "model       | {\"eventId\":\"e\",\"type\":\"workload_units\",\"units\":1,\"model\":\"m\"}",
            "unitKind    | {\"eventId\":\"e\",\"type\":\"workload_units\",\"units\":1,\"unitKind\":\"gpu\"}",
            // model
            "model       | {\"eventId\":\"e\",\"type\":\"ai_tokens\",\"inputTokens\":1,\"outputTokens\":1}",
            "model       | {\"eventId\":\"e\",\"type\":\"ai_tokens\",\"model\":\"\",\"inputTokens\":1,\"outputTokens\":1}",
            "model       | {\"eventId\":\"e\",\"type\":\"ai_tokens\",\"model\":3,\"inputTokens\":1,\"outputTokens\":1}",
            // tokens
            "inputTokens | {\"eventId\":\"e\"," + AI + ",\"inputTokens\":0,\"outputTokens\":0}",
            "inputTokens | {\"eventId\":\"e\"," + AI + ",\"outputTokens\":1}",
            "outputTokens| {\"eventId\":\"e\"," + AI + ",\"inputTokens\":1}",
            "inputTokens | {\"eventId\":\"e\"," + AI + ",\"inputTokens\":-1,\"outputTokens\":5}",
            "outputTokens| {\"eventId\":\"e\"," + AI + ",\"inputTokens\":5,\"outputTokens\":-5}",
            "inputTokens | {\"eventId\":\"e\"," + AI + ",\"inputTokens\":1.5,\"outputTokens\":1}",
            "outputTokens| {\"eventId\":\"e\"," + AI + ",\"inputTokens\":1,\"outputTokens\":0.1}",
            "inputTokens | {\"eventId\":\"e\"," + AI + ",\"inputTokens\":1000000000001,\"outputTokens\":1}",
            "outputTokens| {\"eventId\":\"e\"," + AI + ",\"inputTokens\":1,\"outputTokens\":1e13}",
            "inputTokens | {\"eventId\":\"e\"," + AI + ",\"inputTokens\":9223372036854775808,\"outputTokens\":1}",
            "inputTokens | {\"eventId\":\"e\"," + AI + ",\"inputTokens\":\"1200\",\"outputTokens\":1}",
            "inputTokens | {\"eventId\":\"e\"," + AI + ",\"inputTokens\":null,\"outputTokens\":1}",
            // units
            "units       | {\"eventId\":\"e\",\"type\":\"workload_units\",\"units\":0}",
            "units       | {\"eventId\":\"e\",\"type\":\"workload_units\",\"units\":-3}",
            "units       | {\"eventId\":\"e\",\"type\":\"workload_units\",\"units\":0.5}",
            "units       | {\"eventId\":\"e\",\"type\":\"workload_units\",\"units\":1000000000001}",
            "units       | {\"eventId\":\"e\",\"type\":\"workload_units\",\"units\":\"3\"}",
            "units       | {\"eventId\":\"e\",\"type\":\"workload_units\"}",
            "unit        | {\"eventId\":\"e\",\"type\":\"workload_units\",\"units\":1,\"unit\":\"\"}",
            "unit        | {\"eventId\":\"e\",\"type\":\"workload_units\",\"units\":1,\"unit\":5}",
            // occurredAt
            "occurredAt  | {\"eventId\":\"e\"," + AI + ",\"inputTokens\":1,\"outputTokens\":1,\"occurredAt\":\"2026-11-24\"}",
            "occurredAt  | {\"eventId\":\"e\"," + AI + ",\"inputTokens\":1,\"outputTokens\":1,\"occurredAt\":\"2026-11-24 10:00:00\"}",
            "occurredAt  | {\"eventId\":\"e\"," + AI + ",\"inputTokens\":1,\"outputTokens\":1,\"occurredAt\":\"soon\"}",
            "occurredAt  | {\"eventId\":\"e\"," + AI + ",\"inputTokens\":1,\"outputTokens\":1,\"occurredAt\":1732442400}",
            "occurredAt  | {\"eventId\":\"e\",\"type\":\"workload_units\",\"units\":1,\"occurredAt\":\"2026-11-24T25:00:00Z\"}",
    })
    void refusesAndNamesTheField(String field, String body) {
        assertRefused(field, body);
    }

    @Test
    void refusesOverlongEventIdAndModel() {
        String id = "e".repeat(129);
        assertRefused("eventId", "{\"eventId\":\"" + id + "\"," + AI + ",\"inputTokens\":1,\"outputTokens\":1}");
        assertRefused("model", "{\"eventId\":\"e\",\"type\":\"ai_tokens\",\"model\":\"" + "m".repeat(129)
                + "\",\"inputTokens\":1,\"outputTokens\":1}");
        assertRefused("unit", "{\"eventId\":\"e\",\"type\":\"workload_units\",\"units\":1,\"unit\":\"" + "u".repeat(65) + "\"}");
    }

    @Test
    void aTypoIsNeverIgnored() {
        // "outputToken" instead of "outputTokens" must not bill input tokens only
        ApiException e = assertThrows(ApiException.class,
                () -> parse("{\"eventId\":\"e\"," + AI + ",\"inputTokens\":100,\"outputTokens\":0,\"outputToken\":5000}"));
        assertEquals("outputToken", e.details().get("field"));
        assertTrue(e.getMessage().contains("outputToken"));
    }

    // --- the request hash: same canonical body, same hash -------------------------------------------

    @ParameterizedTest(name = "[{index}] same event")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
            // key order and whitespace do not matter
            "{\"eventId\":\"e1\",\"type\":\"ai_tokens\",\"model\":\"m\",\"inputTokens\":10,\"outputTokens\":5}"
                    + "|{ \"outputTokens\": 5, \"inputTokens\": 10, \"model\": \"m\", \"type\": \"ai_tokens\", \"eventId\": \"e1\" }",
            // the same numbers written differently
            "{\"eventId\":\"e1\",\"type\":\"ai_tokens\",\"model\":\"m\",\"inputTokens\":1000,\"outputTokens\":5}"
                    + "|{\"eventId\":\"e1\",\"type\":\"ai_tokens\",\"model\":\"m\",\"inputTokens\":1e3,\"outputTokens\":5.0}",
            // the same instant written differently
            "{\"eventId\":\"e1\",\"type\":\"workload_units\",\"units\":3,\"occurredAt\":\"2026-11-24T10:00:00Z\"}"
                    + "|{\"eventId\":\"e1\",\"type\":\"workload_units\",\"units\":3,\"occurredAt\":\"2026-11-24T10:00:00.000Z\"}",
            "{\"eventId\":\"e1\",\"type\":\"workload_units\",\"units\":3}"
                    + "|{\"units\":3,\"eventId\":\"e1\",\"type\":\"workload_units\"}",
    })
    void sameCanonicalBodySameHash(String a, String b) {
        UsageEvent ea = parse(a), eb = parse(b);
        assertEquals(ea.canonical(), eb.canonical());
        assertEquals(ea.requestHash(), eb.requestHash());
        assertTrue(ea.requestHash().matches("[0-9a-f]{64}"), ea.requestHash());
    }

    @ParameterizedTest(name = "[{index}] differs from the base event")
    @ValueSource(strings = {
            "{\"eventId\":\"e1\",\"type\":\"ai_tokens\",\"model\":\"m\",\"inputTokens\":11,\"outputTokens\":5}",
            "{\"eventId\":\"e1\",\"type\":\"ai_tokens\",\"model\":\"m\",\"inputTokens\":10,\"outputTokens\":6}",
            "{\"eventId\":\"e1\",\"type\":\"ai_tokens\",\"model\":\"m\",\"inputTokens\":5,\"outputTokens\":10}",
            "{\"eventId\":\"e1\",\"type\":\"ai_tokens\",\"model\":\"m2\",\"inputTokens\":10,\"outputTokens\":5}",
            "{\"eventId\":\"e1\",\"type\":\"ai_tokens\",\"model\":\"M\",\"inputTokens\":10,\"outputTokens\":5}",
            "{\"eventId\":\"e2\",\"type\":\"ai_tokens\",\"model\":\"m\",\"inputTokens\":10,\"outputTokens\":5}",
            "{\"eventId\":\"e1\",\"type\":\"ai_tokens\",\"model\":\"m\",\"inputTokens\":10,\"outputTokens\":5,\"occurredAt\":\"2026-11-24T10:00:00Z\"}",
            "{\"eventId\":\"e1\",\"type\":\"workload_units\",\"units\":15}",
            "{\"eventId\":\"e1\",\"type\":\"workload_units\",\"units\":10,\"unit\":\"m\"}",
    })
    void differentBodyDifferentHash(String other) {
        UsageEvent base = parse("{\"eventId\":\"e1\",\"type\":\"ai_tokens\",\"model\":\"m\",\"inputTokens\":10,\"outputTokens\":5}");
        assertNotEquals(base.requestHash(), parse(other).requestHash());
    }

    @Test
    void differentWorkloadBodiesDifferentHashes() {
        String base = "{\"eventId\":\"r\",\"type\":\"workload_units\",\"units\":3";
        UsageEvent plain = parse(base + "}");
        assertNotEquals(plain.requestHash(), parse(base.replace("3", "4") + "}").requestHash());
        assertNotEquals(plain.requestHash(), parse(base + ",\"unit\":\"gpu\"}").requestHash());
        assertNotEquals(plain.requestHash(), parse(base + ",\"occurredAt\":\"2026-11-24T10:00:00Z\"}").requestHash());
        assertNotEquals(parse(base + ",\"occurredAt\":\"2026-11-24T10:00:00Z\"}").requestHash(),
                parse(base + ",\"occurredAt\":\"2026-11-24T10:00:00.001Z\"}").requestHash());
    }

    @Test
    void delimitersInsideValuesCannotForgeTheSameHash() {
        // the same eventId, with '|' moved between model and counts, must not collide
        UsageEvent a = parse("{\"eventId\":\"e|1\",\"type\":\"ai_tokens\",\"model\":\"m|1\",\"inputTokens\":2,\"outputTokens\":3}");
        UsageEvent b = parse("{\"eventId\":\"e|1\",\"type\":\"ai_tokens\",\"model\":\"m\",\"inputTokens\":1,\"outputTokens\":2}");
        assertNotEquals(a.requestHash(), b.requestHash());
    }
}
