package dev.credits.core.http;

import dev.credits.core.json.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Instant;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FieldsTest {

    /** Fields over the JSON object {@code {"<name>": <valueJson>}}, parsed exactly as a request body is. */
    private static Fields body(String name, String valueJson) {
        try {
            return new Fields(Json.parseObject("{\"" + name + "\": " + valueJson + "}"));
        } catch (Json.MalformedJsonException e) {
            throw new AssertionError(e);
        }
    }

    /** Asserts a 400 invalid_request that names {@code field}, in the details and in the message. */
    static ApiException assertInvalid(String field, Executable call) {
        ApiException e = assertThrows(ApiException.class, call);
        assertEquals(400, e.status());
        assertEquals("invalid_request", e.code());
        assertEquals(field, e.details().get("field"));
        assertTrue(e.getMessage().contains("'" + field + "'"), e.getMessage());
        return e;
    }

    // --- count ---------------------------------------------------------------------------------------

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
            "0,         0",
            "1,         1",
            "1200,      1200",
            "1e3,       1000",
            "2.0,       2",      // a whole number written with a zero fraction
            "1000000000000, 1000000000000",
    })
    void countAcceptsWholeNumbersInRange(String json, long expected) {
        assertEquals(expected, body("n", json).count("n", true, 0, 1_000_000_000_000L));
    }

    @ParameterizedTest(name = "{0} is refused")
    @ValueSource(strings = {
            "1.5", "0.1", "1e-3", "1.000001",                    // fractions
            "-1", "-0.5", "-1000000000000",                        // negatives
            "1000000000001", "1e13", "9223372036854775808", "1e400", // above max
            "\"5\"", "\"\"", "true", "[1]", "{\"v\": 1}",          // not numbers
    })
    void countRefusesAndNamesTheField(String json) {
        assertInvalid("inputTokens", () -> body("inputTokens", json).count("inputTokens", true, 0, 1_000_000_000_000L));
    }

    @Test
    void countMessagesSayWhatIsWrong() {
        assertTrue(assertInvalid("n", () -> body("n", "1.5").count("n", true, 0, 10)).getMessage().contains("whole"));
        assertTrue(assertInvalid("n", () -> body("n", "-1").count("n", true, 0, 10)).getMessage().contains("at least 0"));
        assertTrue(assertInvalid("n", () -> body("n", "11").count("n", true, 0, 10)).getMessage().contains("at most 10"));
        assertTrue(assertInvalid("n", () -> body("n", "\"3\"").count("n", true, 0, 10)).getMessage().contains("number"));
        assertTrue(assertInvalid("units", () -> body("units", "0").count("units", true, 1, 10)).getMessage().contains("at least 1"));
    }

    @Test
    void countRequiredVersusOptional() {
        Fields empty = new Fields(Map.of());
        assertTrue(assertInvalid("n", () -> empty.count("n", true, 0, 10)).getMessage().contains("required"));
        assertInvalid("n", () -> body("n", "null").count("n", true, 0, 10));
        assertNull(empty.count("n", false, 0, 10));
        assertNull(body("n", "null").count("n", false, 0, 10));
    }

    // --- credits -------------------------------------------------------------------------------------

    @ParameterizedTest(name = "{0} credits -> {1} micro")
    @CsvSource({
            "1.25,        1250000",
            "0.000001,    1",
            "100,         100000000",
            "1.1234560,   1123456",
            "1e2,         100000000",
    })
    void creditsReadsExactAmounts(String json, long micros) {
        assertEquals(micros, body("credits", json).credits("credits", true, false, false));
    }

    @ParameterizedTest(name = "{0} is refused")
    @ValueSource(strings = {"1.1234567", "0.0000001", "-1", "-0.000001", "0", "0.000000", "9223372036855",
            "1e30", "\"1.25\"", "true", "[]"})
    void creditsRefusesAndNamesTheField(String json) {
        assertInvalid("credits", () -> body("credits", json).credits("credits", true, false, false));
    }

    @Test
    void creditsHonoursNegativeAndZeroFlags() {
        assertEquals(-2_500_000L, body("hardLimit", "-2.5").credits("hardLimit", true, true, true));
        assertEquals(0L, body("hardLimit", "0").credits("hardLimit", true, false, true));
        assertInvalid("hardLimit", () -> body("hardLimit", "0").credits("hardLimit", true, true, false));
        assertInvalid("hardLimit", () -> body("hardLimit", "-1").credits("hardLimit", true, false, true));
        assertInvalid("hardLimit", () -> body("hardLimit", "-1.0000001").credits("hardLimit", true, true, true));
        assertNull(new Fields(Map.of()).credits("softLimit", false, false, false));
        assertNull(body("softLimit", "null").credits("softLimit", false, false, false));
        assertInvalid("softLimit", () -> new Fields(Map.of()).credits("softLimit", true, false, false));
    }

    // --- only ----------------------------------------------------------------------------------------

    @Test
    void onlyAcceptsKnownFields() {
        Fields f = body("eventId", "\"e\"");
        assertSame(f, f.only(Set.of("eventId", "type")));
        new Fields(Map.of()).only(Set.of());
    }

    @Test
    void onlyRefusesAnUnknownFieldByName() {
        ApiException e = assertInvalid("outputToken",
                () -> new Fields(Json.parseObject("{\"eventId\": \"e\", \"outputToken\": 3}"))
                        .only(Set.of("eventId", "outputTokens")));
        assertTrue(e.getMessage().contains("not a known field"), e.getMessage());
        // even when its value is null
        assertInvalid("extra", () -> body("extra", "null").only(Set.of("eventId")));
        // names are case sensitive
        assertInvalid("EventId", () -> body("EventId", "\"e\"").only(Set.of("eventId")));
    }

    // --- string and instant --------------------------------------------------------------------------

    @Test
    void stringReadsStringsOnly() {
        assertEquals("gpt-4o", body("model", "\"gpt-4o\"").string("model", true));
        assertEquals("", body("model", "\"\"").string("model", true));
        assertInvalid("model", () -> body("model", "4").string("model", true));
        assertInvalid("model", () -> body("model", "null").string("model", true));
        assertInvalid("model", () -> new Fields(Map.of()).string("model", true));
        assertNull(new Fields(Map.of()).string("model", false));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
            "2026-11-24T10:00:00Z,          2026-11-24T10:00:00Z",
            "2026-11-24T10:00:00.123Z,      2026-11-24T10:00:00.123Z",
            "2026-11-24T10:00:00.000Z,      2026-11-24T10:00:00Z",
    })
    void instantParsesUtcTimes(String text, String expected) {
        assertEquals(Instant.parse(expected), body("occurredAt", "\"" + text + "\"").instant("occurredAt", true));
    }

    @ParameterizedTest(name = "{0} is refused")
    @ValueSource(strings = {"\"2026-11-24\"", "\"2026-11-24 10:00:00Z\"", "\"2026-11-24T10:00:00\"",
            "\"yesterday\"", "\"\"", "\"2026-13-01T00:00:00Z\"", "\"2026-02-30T00:00:00Z\"", "1732442400", "true"})
    void instantRefusesOtherTextAndNamesTheField(String json) {
        ApiException e = assertInvalid("occurredAt", () -> body("occurredAt", json).instant("occurredAt", false));
        assertFalse(e.getMessage().contains("Exception"), e.getMessage());
    }

    @Test
    void instantOptional() {
        assertNull(new Fields(Map.of()).instant("occurredAt", false));
        assertInvalid("occurredAt", () -> new Fields(Map.of()).instant("occurredAt", true));
    }

    @Test
    void hasAndIsNullTellAbsentFromNull() {
        Fields f = body("softLimit", "null");
        assertTrue(f.has("softLimit"));
        assertTrue(f.isNull("softLimit"));
        assertFalse(f.has("hardLimit"));
        assertFalse(f.isNull("hardLimit"));
        assertFalse(body("softLimit", "1").isNull("softLimit"));
    }
}
