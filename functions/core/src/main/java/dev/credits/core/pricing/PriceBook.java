package dev.credits.core.pricing;

import dev.credits.core.domain.UsageEvent;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A versioned price book. AI rates are credits per 1,000,000 tokens; workload rates are credits per unit.
 * Rates are exact decimals; a cost is computed exactly and rounded up to a whole micro-credit once per event.
 */
public record PriceBook(String version, Map<String, ModelRate> models, String defaultUnitKind,
                        Map<String, UnitRate> unitKinds) {

    public record ModelRate(BigDecimal inputPer1M, BigDecimal outputPer1M) {
        public ModelRate {
            requireRate(inputPer1M, "inputPer1M");
            requireRate(outputPer1M, "outputPer1M");
        }
    }

    public record UnitRate(BigDecimal perUnit) {
        public UnitRate { requireRate(perUnit, "perUnit"); }
    }

    public PriceBook {
        Objects.requireNonNull(version, "version");
        if (version.isBlank()) throw new IllegalArgumentException("price book version is blank");
        models = Map.copyOf(models);
        unitKinds = Map.copyOf(unitKinds);
        if (!unitKinds.containsKey(defaultUnitKind)) {
            throw new IllegalArgumentException("default unit kind '" + defaultUnitKind + "' has no rate");
        }
    }

    private static void requireRate(BigDecimal r, String name) {
        if (r == null || r.signum() < 0) throw new IllegalArgumentException(name + " must be a non-negative number");
        if (r.stripTrailingZeros().scale() > 12) throw new IllegalArgumentException(name + " has more than 12 decimals");
    }

    /** The price of one event, or why it has none. */
    public sealed interface Quote {
        record Priced(long costMicros, String priceBookVersion, Map<String, BigDecimal> rates) implements Quote {}
        record UnknownModel(String model) implements Quote {}
        record UnknownUnit(String unitKind) implements Quote {}
        /** The exact cost does not fit in a long of micro-credits. */
        record TooLarge() implements Quote {}
    }

    public Quote price(UsageEvent event) {
        return switch (event) {
            case UsageEvent.AiTokens ai -> {
                ModelRate rate = models.get(ai.model());
                if (rate == null) yield new Quote.UnknownModel(ai.model());
                // credits per 1M tokens * tokens = micro-credits, exactly
                BigDecimal micros = rate.inputPer1M().multiply(BigDecimal.valueOf(ai.inputTokens()))
                        .add(rate.outputPer1M().multiply(BigDecimal.valueOf(ai.outputTokens())));
                Map<String, BigDecimal> rates = new LinkedHashMap<>();
                rates.put("inputPer1M", rate.inputPer1M());
                rates.put("outputPer1M", rate.outputPer1M());
                yield priced(micros, rates);
            }
            case UsageEvent.WorkloadUnits wu -> {
                String kind = wu.unitKind() == null ? defaultUnitKind : wu.unitKind();
                UnitRate rate = unitKinds.get(kind);
                if (rate == null) yield new Quote.UnknownUnit(kind);
                BigDecimal micros = rate.perUnit().multiply(BigDecimal.valueOf(wu.units()))
                        .multiply(BigDecimal.valueOf(1_000_000L));
                yield priced(micros, Map.of("perUnit", rate.perUnit()));
            }
        };
    }

    /** The unit kind an event is priced as. */
    public String unitKindOf(UsageEvent.WorkloadUnits wu) {
        return wu.unitKind() == null ? defaultUnitKind : wu.unitKind();
    }

    private Quote priced(BigDecimal exactMicros, Map<String, BigDecimal> rates) {
        BigDecimal rounded = exactMicros.setScale(0, RoundingMode.CEILING);
        if (rounded.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) return new Quote.TooLarge();
        return new Quote.Priced(rounded.longValueExact(), version, rates);
    }
}
