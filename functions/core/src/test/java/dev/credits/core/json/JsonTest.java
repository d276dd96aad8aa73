package dev.credits.core.json;

import dev.credits.core.json.Json.MalformedJsonException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JsonTest {

    @ParameterizedTest(name = "{0} reads as exactly {1}")
    @CsvSource({
            "0.1,                   0.1",
            "0.10,                  0.10",
            "1.1234567,             1.1234567",
            "123456789012345678901234567890, 123456789012345678901234567890",
            "-0.000001,             -0.000001",
            "1e3,                   1E+3",
            "1E3,                   1E+3",
            "2.5e-3,                0.0025",
            "0,                     0",
            "9223372036854775808,   9223372036854775808",
    })
    void readsNumbersAsExactDecimals(String text, String exact) throws MalformedJsonException {
        Object v = Json.parse(text);
        BigDecimal d = assertInstanceOf(BigDecimal.class, v);
        assertEquals(new BigDecimal(exact), d);
    }

    @Test
    void pointOneStaysPointOneInsideObjects() throws MalformedJsonException {
        Map<String, Object> m = Json.parseObject("{\"a\": 0.1, \"b\": 0.2, \"n\": 1200}");
        BigDecimal sum = ((BigDecimal) m.get("a")).add((BigDecimal) m.get("b"));
        assertEquals(new BigDecimal("0.3"), sum);
        assertEquals(0, new BigDecimal(1200).compareTo((BigDecimal) m.get("n")));
        assertEquals(1000, ((BigDecimal) Json.parse("1e3")).intValueExact());
    }

    @Test
    void readsAllValueKindsAndKeepsKeyOrder() throws MalformedJsonException {
        Map<String, Object> m = Json.parseObject(
                "{\"z\": \"s\", \"a\": [1, true, false, null, {\"k\": \"v\"}], \"m\": {}, \"e\": \"\\u00e9\\n\"}");
        assertEquals(List.of("z", "a", "m", "e"), new ArrayList<>(m.keySet()));
        assertEquals("s", m.get("z"));
        List<?> a = assertInstanceOf(List.class, m.get("a"));
        assertEquals(new BigDecimal("1"), a.get(0));
        assertEquals(Boolean.TRUE, a.get(1));
        assertEquals(Boolean.FALSE, a.get(2));
        assertSame(Json.NULL, a.get(3));
        assertEquals(Map.of("k", "v"), a.get(4));
        assertEquals(Map.of(), m.get("m"));
        assertEquals("\u00e9\n", m.get("e"));
    }

    @Test
    void jsonNullIsNotAbsent() throws MalformedJsonException {
        Map<String, Object> m = Json.parseObject("{\"a\": null}");
        assertTrue(m.containsKey("a"));
        assertSame(Json.NULL, m.get("a"));
        assertNotSame(null, m.get("a"));
        assertFalse(m.containsKey("b"));
        assertSame(Json.NULL, Json.parse("null"));
        assertEquals("null", Json.NULL.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "{\"a\": 1, \"a\": 2}",
            "{\"a\": 1, \"a\": 1}",
            "{\"eventId\": \"x\", \"b\": {\"k\": 1, \"k\": 2}}",
            "[{\"k\": null, \"k\": null}]",
    })
    void refusesDuplicateKeys(String text) {
        assertThrows(MalformedJsonException.class, () -> Json.parse(text));
    }

    @ParameterizedTest
    @ValueSource(strings = {"{} {}", "{}x", "{\"a\":1}]", "1 2", "\"a\" \"b\"", "{} // comment", "[] null"})
    void refusesTrailingContent(String text) {
        assertThrows(MalformedJsonException.class, () -> Json.parse(text));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "\n", "{", "{\"a\":}", "{'a': 1}", "{a: 1}", "[1,]", "{\"a\":1,}",
            "NaN", "Infinity", "01", "+1", ".5", "1.", "tru", "\"unterminated", "{\"a\" 1}", "\u0000"})
    void refusesMalformedText(String text) {
        assertThrows(MalformedJsonException.class, () -> Json.parse(text));
    }

    @Test
    void refusesDeepNesting() {
        assertThrows(MalformedJsonException.class, () -> Json.parse(nested(100)));
        assertThrows(MalformedJsonException.class, () -> Json.parse(nested(10_000)));
        assertThrows(MalformedJsonException.class, () -> Json.parse("[".repeat(17) + "]".repeat(17)));
    }

    @Test
    void acceptsModestNesting() throws MalformedJsonException {
        Object v = Json.parse(nested(8));
        for (int i = 0; i < 8; i++) v = assertInstanceOf(Map.class, v).get("a");
        assertEquals(new BigDecimal("1"), v);
    }

    private static String nested(int depth) {
        return "{\"a\":".repeat(depth) + "1" + "}".repeat(depth);
    }

    @Test
    void refusesVeryLongNumbers() {
        assertThrows(MalformedJsonException.class, () -> Json.parse("1" + "0".repeat(1000)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"[]", "[{}]", "1", "\"s\"", "true", "null"})
    void parseObjectRefusesAnythingButAnObject(String text) throws MalformedJsonException {
        Json.parse(text); // well-formed JSON ...
        assertThrows(MalformedJsonException.class, () -> Json.parseObject(text)); // ... but not an object
    }

    @Test
    void errorMessagesAreShortAndCarryNoSourceExcerpt() {
        MalformedJsonException e = assertThrows(MalformedJsonException.class,
                () -> Json.parse("{\"k\": 1, \"k\": 2}\n" + " ".repeat(500)));
        assertFalse(e.getMessage().contains("Source"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertTrue(e.getMessage().length() <= 200, e.getMessage());
    }

    // --- writing -------------------------------------------------------------------------------------

    @ParameterizedTest(name = "{0} writes as {1}")
    @CsvSource({
            "1E+3,        1000",
            "1E+10,       10000000000",
            "0.1,         0.1",
            "0.000001,    0.000001",
            "1E-7,        0.0000001",
            "-2.50,       -2.50",
            "0,           0",
            "9223372036854.775807, 9223372036854.775807",
    })
    void writesDecimalsWithoutScientificNotation(String value, String written) {
        assertEquals(written, Json.write(new BigDecimal(value)));
        assertFalse(Json.write(Map.of("v", new BigDecimal(value))).toUpperCase().contains("E"));
    }

    @Test
    void writesEveryValueKind() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("s", "quote\" back\\ nl\n");
        m.put("l", Long.MAX_VALUE);
        m.put("i", -7);
        m.put("d", new BigDecimal("1.25"));
        m.put("t", true);
        m.put("n", null);
        m.put("N", Json.NULL);
        m.put("a", Arrays.asList(1, "x", null));
        m.put("o", Map.of());
        assertEquals("{\"s\":\"quote\\\" back\\\\ nl\\n\",\"l\":9223372036854775807,\"i\":-7,\"d\":1.25,"
                + "\"t\":true,\"n\":null,\"N\":null,\"a\":[1,\"x\",null],\"o\":{}}", Json.write(m));
    }

    @Test
    void roundTripsMapsListsAndDecimals() throws MalformedJsonException {
        Map<String, Object> inner = new LinkedHashMap<>();
        inner.put("rate", new BigDecimal("0.000000000001"));
        inner.put("big", new BigDecimal("123456789012345678901234567890.123456"));
        inner.put("neg", new BigDecimal("-1.500"));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("eventId", "evt-\u00e9-\uD83D\uDE00");
        m.put("amounts", List.of(new BigDecimal("0.1"), new BigDecimal("0.2"), new BigDecimal("1000")));
        m.put("nested", inner);
        m.put("flag", Boolean.FALSE);
        m.put("gone", Json.NULL);
        m.put("list", List.of(List.of(), Map.of()));

        String text = Json.write(m);
        Object back = Json.parse(text);
        assertEquals(m, back);
        assertEquals(text, Json.write(back));
        assertEquals(List.copyOf(m.keySet()), List.copyOf(assertInstanceOf(Map.class, back).keySet()));
    }

    @Test
    void roundTripLosesNoValueForExponentInput() throws MalformedJsonException {
        BigDecimal v = (BigDecimal) Json.parse(Json.write(new BigDecimal("1E+3")));
        assertEquals(0, new BigDecimal(1000).compareTo(v));
        assertEquals("1000", v.toString());
    }
}
