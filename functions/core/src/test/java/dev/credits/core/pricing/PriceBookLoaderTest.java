package dev.credits.core.pricing;

import dev.credits.core.domain.UsageEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.math.BigDecimal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PriceBookLoaderTest {
    private static final String VALID = """
            {"version": "v7",
             "aiModels": {"m": {"inputPer1M": 0.15, "outputPer1M": 0.6}},
             "workloadUnits": {"default": "std", "kinds": {"std": {"perUnit": 0.0001}, "gpu": {"perUnit": 0.01}}}}
            """;

    @Test
    void parsesAValidBookExactly() {
        PriceBook b = PriceBookLoader.parse(VALID);
        assertEquals("v7", b.version());
        assertEquals("std", b.defaultUnitKind());
        assertEquals(new BigDecimal("0.15"), b.models().get("m").inputPer1M());
        assertEquals(new BigDecimal("0.6"), b.models().get("m").outputPer1M());
        assertEquals(new BigDecimal("0.0001"), b.unitKinds().get("std").perUnit());
        assertEquals(new BigDecimal("0.01"), b.unitKinds().get("gpu").perUnit());
    }

    @Test
    void theDeployedBookLoadsAndPricesEveryModelAndKind() {
        PriceBook b = PriceBookLoader.fromClasspath();
        assertTrue(b.models().keySet().containsAll(
                java.util.Set.of("gpt-4o-mini", "gpt-4o", "claude-3-5-haiku", "claude-sonnet-4", "llama-3.1-8b")));
        assertEquals("standard", b.defaultUnitKind());
        for (String model : b.models().keySet()) {
            var q = b.price(new UsageEvent.AiTokens("e", model, 1, 1, null));
            assertTrue(assertInstanceOf(PriceBook.Quote.Priced.class, q).costMicros() > 0, model + " must not be free");
        }
        for (String kind : b.unitKinds().keySet()) {
            var q = b.price(new UsageEvent.WorkloadUnits("e", kind, 1, null));
            assertTrue(assertInstanceOf(PriceBook.Quote.Priced.class, q).costMicros() > 0, kind + " must not be free");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {
            // no version
            """
            {"aiModels": {}, "workloadUnits": {"default": "std", "kinds": {"std": {"perUnit": 1}}}}""",
            // null version
            """
            {"version": null, "aiModels": {}, "workloadUnits": {"default": "std", "kinds": {"std": {"perUnit": 1}}}}""",
            // blank version
            """
            {"version": " ", "aiModels": {}, "workloadUnits": {"default": "std", "kinds": {"std": {"perUnit": 1}}}}""",
            // no aiModels
            """
            {"version": "v", "workloadUnits": {"default": "std", "kinds": {"std": {"perUnit": 1}}}}""",
            // a model without an output rate
            """
            {"version": "v", "aiModels": {"m": {"inputPer1M": 1}}, "workloadUnits": {"default": "std", "kinds": {"std": {"perUnit": 1}}}}""",
            // a model without an input rate
            """
            {"version": "v", "aiModels": {"m": {"outputPer1M": 1}}, "workloadUnits": {"default": "std", "kinds": {"std": {"perUnit": 1}}}}""",
            // a negative rate
            """
            {"version": "v", "aiModels": {"m": {"inputPer1M": -1, "outputPer1M": 1}}, "workloadUnits": {"default": "std", "kinds": {"std": {"perUnit": 1}}}}""",
            // no workloadUnits
            """
            {"version": "v", "aiModels": {}}""",
            // no default unit kind
            """
            {"version": "v", "aiModels": {}, "workloadUnits": {"kinds": {"std": {"perUnit": 1}}}}""",
            // default unit kind without a rate
            """
            {"version": "v", "aiModels": {}, "workloadUnits": {"default": "gpu", "kinds": {"std": {"perUnit": 1}}}}""",
            // no kinds
            """
            {"version": "v", "aiModels": {}, "workloadUnits": {"default": "std"}}""",
            // a kind without perUnit
            """
            {"version": "v", "aiModels": {}, "workloadUnits": {"default": "std", "kinds": {"std": {}}}}""",
            // a null rate
            """
            {"version": "v", "aiModels": {}, "workloadUnits": {"default": "std", "kinds": {"std": {"perUnit": null}}}}""",
            // not JSON
            "{\"version\": ",
            // not an object
            "[]",
    })
    void refusesIncompleteOrInvalidBooks(String text) {
        assertThrows(IllegalArgumentException.class, () -> PriceBookLoader.parse(text));
    }
}
