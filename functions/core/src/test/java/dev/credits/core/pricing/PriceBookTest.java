package dev.credits.core.pricing;

import dev.credits.core.domain.UsageEvent;
import dev.credits.core.pricing.PriceBook.ModelRate;
import dev.credits.core.pricing.PriceBook.Quote;
import dev.credits.core.pricing.PriceBook.UnitRate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.math.BigDecimal;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

class PriceBookTest {
    private static final long MAX_Q = UsageEvent.MAX_QUANTITY;

    private static BigDecimal d(String s) { return new BigDecimal(s); }

    private static PriceBook book(String inPer1M, String outPer1M, String perUnit) {
        return new PriceBook("test-1",
                Map.of("m", new ModelRate(d(inPer1M), d(outPer1M))),
                "std",
                Map.of("std", new UnitRate(d(perUnit)), "gpu", new UnitRate(d("0.01"))));
    }

    private static UsageEvent.AiTokens ai(String model, long in, long out) {
        return new UsageEvent.AiTokens("evt-1", model, in, out, null);
    }

    private static UsageEvent.WorkloadUnits wu(String kind, long units) {
        return new UsageEvent.WorkloadUnits("evt-1", kind, units, null);
    }

    private static long cost(PriceBook b, UsageEvent e) {
        return assertInstanceOf(Quote.Priced.class, b.price(e)).costMicros();
    }

    // --- the real, deployed price book ---------------------------------------------------------------

    @ParameterizedTest(name = "{0}: {1} in + {2} out = {3} micro-credits")
    @CsvSource({
            // inputPer1M * in + outputPer1M * out, in micro-credits, rounded up once
            "gpt-4o-mini,      1200, 350,  390",      // 180 + 210
            "gpt-4o-mini,      1,    0,    1",        // 0.15 -> 1
            "gpt-4o-mini,      0,    1,    1",        // 0.60 -> 1
            "gpt-4o-mini,      1,    1,    1",        // 0.75 -> 1 (not ceil(0.15)+ceil(0.60) = 2)
            "gpt-4o-mini,      20,   0,    3",        // 3.00 exactly, no rounding up
            "gpt-4o-mini,      21,   0,    4",        // 3.15 -> 4
            "gpt-4o,           1000000, 1000000, 12500000", // 2.50 + 10.00 credits
            "claude-sonnet-4,  1000, 1000, 18000",
            "claude-3-5-haiku, 3,    7,    31",       // 2.4 + 28 = 30.4 -> 31
            "llama-3.1-8b,     3,    3,    1",        // 0.15 + 0.24 = 0.39 -> 1
            "llama-3.1-8b,     1000000000000, 1000000000000, 130000000000",    // 1e12 x (0.05 + 0.08) micro-credits
    })
    void pricesAiTokensWithTheRealPriceBook(String model, long in, long out, long micros) {
        PriceBook real = PriceBookLoader.fromClasspath();
        Quote.Priced p = assertInstanceOf(Quote.Priced.class, real.price(ai(model, in, out)));
        assertEquals(micros, p.costMicros());
        assertEquals(real.version(), p.priceBookVersion());
    }

    @Test
    void realPriceBookRecordsVersionAndExactRates() {
        PriceBook real = PriceBookLoader.fromClasspath();
        assertEquals("2026-11-01.1", real.version());
        Quote.Priced p = assertInstanceOf(Quote.Priced.class, real.price(ai("gpt-4o-mini", 1200, 350)));
        assertEquals("2026-11-01.1", p.priceBookVersion());
        assertEquals(2, p.rates().size());
        assertEquals(0, d("0.15").compareTo(p.rates().get("inputPer1M")));
        assertEquals(0, d("0.60").compareTo(p.rates().get("outputPer1M")));
    }

    @ParameterizedTest(name = "{0} x {1} = {2} micro-credits")
    @CsvSource({
            ",          3,   300",      // no unit kind: the default, standard at 0.0001 per unit
            "standard,  3,   300",
            "standard,  1,   100",
            "gpu,       1,   10000",
            "gpu,       250, 2500000",
    })
    void pricesWorkloadUnitsWithTheRealPriceBook(String kind, long units, long micros) {
        PriceBook real = PriceBookLoader.fromClasspath();
        Quote.Priced p = assertInstanceOf(Quote.Priced.class, real.price(wu(kind, units)));
        assertEquals(micros, p.costMicros());
        assertEquals(real.version(), p.priceBookVersion());
        assertEquals(Map.of("perUnit", real.unitKinds().get(real.unitKindOf(wu(kind, units))).perUnit()), p.rates());
    }

    @Test
    void realPriceBookRefusesUnknownModelAndUnit() {
        PriceBook real = PriceBookLoader.fromClasspath();
        assertEquals(new Quote.UnknownModel("gpt-5-free"), real.price(ai("gpt-5-free", 10, 10)));
        assertEquals(new Quote.UnknownUnit("tpu"), real.price(wu("tpu", 1)));
    }

    // --- hand-built books for the edges -------------------------------------------------------------

    @ParameterizedTest(name = "in {0}/1M, out {1}/1M; {2} in + {3} out = {4} micro-credits")
    @CsvSource({
            "0.15,            0,     1,    0,    1",
            "0.15,            0,     7,    0,    2",      // 1.05 -> 2
            "1,               1,     5,    5,    10",     // exact, not bumped
            "0.000000000001,  0,     1,    0,    1",      // 1e-12 micro still costs 1
            "0.000000000001,  0,     1000000000000, 0, 1", // exactly 1 micro
            "0.5,             0.5,   1,    1,    1",      // 0.5 + 0.5 = 1 exactly
            "0.3,             0.3,   1,    1,    1",      // 0.6 -> 1
            "0.1,             0.2,   1,    1,    1",      // 0.3 exactly in decimal (would be 0.30000000000000004 in double)
            "0.1,             0.2,   10,   10,   3",      // 3 exactly, never 4
            "0,               0,     100,  100,  0",      // a free model is free
    })
    void roundsUpOncePerEvent(String inRate, String outRate, long in, long out, long micros) {
        assertEquals(micros, cost(book(inRate, outRate, "1"), ai("m", in, out)));
    }

    @ParameterizedTest(name = "{1} units at {0} per unit = {2} micro-credits")
    @CsvSource({
            "0.0001,       3,   300",
            "1,            2,   2000000",
            "0.0000001,    1,   1",        // 0.1 micro -> 1
            "0.0000001,    15,  2",        // 1.5 micro -> 2
            "0.0000001,    10,  1",        // 1 micro exactly
            "0.000000000001, 1, 1",
            "1.5,          1,   1500000",
    })
    void pricesWorkloadUnitsRoundingUp(String perUnit, long units, long micros) {
        assertEquals(micros, cost(book("1", "1", perUnit), wu(null, units)));
        assertEquals(micros, cost(book("1", "1", perUnit), wu("std", units)));
    }

    @Test
    void usesTheDefaultUnitKindWhenNoneGiven() {
        PriceBook b = book("1", "1", "0.5");
        assertEquals("std", b.unitKindOf(wu(null, 1)));
        assertEquals("gpu", b.unitKindOf(wu("gpu", 1)));
        assertEquals(500_000, cost(b, wu(null, 1)));
        assertEquals(10_000, cost(b, wu("gpu", 1)));
    }

    @Test
    void unknownModelIsNeverFree() {
        PriceBook b = book("1", "1", "1");
        assertEquals(new Quote.UnknownModel("M"), b.price(ai("M", 1, 1)), "model names are case sensitive");
        assertEquals(new Quote.UnknownModel("other"), b.price(ai("other", 1, 0)));
    }

    @Test
    void unknownUnitKindIsNeverFree() {
        PriceBook b = book("1", "1", "1");
        assertEquals(new Quote.UnknownUnit("tpu"), b.price(wu("tpu", 1)));
        assertEquals(new Quote.UnknownUnit("STD"), b.price(wu("STD", 1)));
    }

    @Test
    void recordsRatesAndVersionInTheQuote() {
        PriceBook b = new PriceBook("v42", Map.of("m", new ModelRate(d("0.25"), d("1.75"))), "std",
                Map.of("std", new UnitRate(d("0.0003"))));
        Quote.Priced a = assertInstanceOf(Quote.Priced.class, b.price(ai("m", 4, 4)));
        assertEquals("v42", a.priceBookVersion());
        assertEquals(Map.of("inputPer1M", d("0.25"), "outputPer1M", d("1.75")), a.rates());
        assertEquals(8, a.costMicros());
        Quote.Priced w = assertInstanceOf(Quote.Priced.class, b.price(wu(null, 2)));
        assertEquals("v42", w.priceBookVersion());
        assertEquals(Map.of("perUnit", d("0.0003")), w.rates());
        assertEquals(600, w.costMicros());
    }

    @Test
    void costsThatDoNotFitInALongAreTooLarge() {
        // 1e12 tokens at 1e7 credits per 1M tokens = 1e19 micro-credits > Long.MAX_VALUE
        PriceBook b = book("10000000", "0", "10");
        assertInstanceOf(Quote.TooLarge.class, b.price(ai("m", MAX_Q, 0)));
        assertInstanceOf(Quote.TooLarge.class, book("0", "10000000", "1").price(ai("m", 0, MAX_Q)));
        // 1e12 units at 10 credits each = 1e19 micro-credits
        assertInstanceOf(Quote.TooLarge.class, b.price(wu(null, MAX_Q)));
        // the sum overflows even though each half fits
        PriceBook half = book("5000000", "5000000", "1");
        assertInstanceOf(Quote.Priced.class, half.price(ai("m", MAX_Q, 0)));
        assertInstanceOf(Quote.TooLarge.class, half.price(ai("m", MAX_Q, MAX_Q)));
    }

    @Test
    void costOfExactlyLongMaxStillFits() {
        // Long.MAX_VALUE = 9223372036854775807 micro = 9223372 credits/1M * 1e12 + 36854775807 micro
        PriceBook b = book("9223372.036854775807", "0", "1");
        assertEquals(Long.MAX_VALUE, cost(b, ai("m", 1_000_000_000_000L, 0)));
        PriceBook over = book("9223372.036854775808", "0", "1");
        assertInstanceOf(Quote.TooLarge.class, over.price(ai("m", 1_000_000_000_000L, 0)));
    }

    @Test
    void refusesBadRatesAndBooks() {
        assertThrows(IllegalArgumentException.class, () -> new ModelRate(d("-0.01"), d("1")));
        assertThrows(IllegalArgumentException.class, () -> new ModelRate(d("1"), null));
        assertThrows(IllegalArgumentException.class, () -> new UnitRate(d("-1")));
        assertThrows(IllegalArgumentException.class, () -> new UnitRate(d("0.0000000000001"))); // 13 decimals
        assertThrows(IllegalArgumentException.class, () -> new PriceBook(" ", Map.of(), "std",
                Map.of("std", new UnitRate(d("1")))));
        assertThrows(IllegalArgumentException.class, () -> new PriceBook("v", Map.of(), "missing",
                Map.of("std", new UnitRate(d("1")))));
    }
}
