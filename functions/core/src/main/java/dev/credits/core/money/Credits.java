package dev.credits.core.money;

import java.math.BigDecimal;
import java.math.RoundingMode;

/**
 * Conversions between credits as the API shows them (exact decimals, at most 6 fractional digits)
 * and micro-credits as everything stores them (a {@code long}). Only exact integer and BigDecimal arithmetic here.
 */
public final class Credits {
    public static final long MICROS_PER_CREDIT = 1_000_000L;
    private static final BigDecimal MICROS = BigDecimal.valueOf(MICROS_PER_CREDIT);
    private static final BigDecimal MAX = BigDecimal.valueOf(Long.MAX_VALUE);

    private Credits() {}

    /** Why a decimal cannot be an amount of credits. */
    public enum Problem { TOO_MANY_DECIMALS, NEGATIVE, NOT_POSITIVE, TOO_LARGE }

    /** A decimal that could not be converted, with why. */
    public static final class AmountException extends Exception {
        private final Problem problem;
        public AmountException(Problem problem, String message) { super(message); this.problem = problem; }
        public Problem problem() { return problem; }
    }

    /**
     * Exactly converts credits to micro-credits.
     * @param allowNegative whether a negative amount is acceptable (never for a charge or a grant)
     */
    public static long toMicros(BigDecimal credits, boolean allowNegative) throws AmountException {
        BigDecimal stripped = credits.stripTrailingZeros();
        if (stripped.scale() > 6) {
            throw new AmountException(Problem.TOO_MANY_DECIMALS, "must have at most 6 fractional digits");
        }
        if (!allowNegative && credits.signum() < 0) {
            throw new AmountException(Problem.NEGATIVE, "must not be negative");
        }
        BigDecimal micros = stripped.multiply(MICROS);
        if (micros.abs().compareTo(MAX) > 0) {
            throw new AmountException(Problem.TOO_LARGE, "is too large");
        }
        return micros.longValueExact();
    }

    /** Whole credits as micro-credits, for amounts known to be valid (configuration, seeds). */
    public static long toMicrosUnchecked(long credits) {
        return Math.multiplyExact(credits, MICROS_PER_CREDIT);
    }

    /** Micro-credits as an exact decimal amount of credits, without trailing zeros (e.g. 1250000 -> 1.25). */
    public static BigDecimal toCredits(long micros) {
        BigDecimal d = BigDecimal.valueOf(micros, 6).stripTrailingZeros();
        return d.scale() < 0 ? d.setScale(0, RoundingMode.UNNECESSARY) : d;
    }

    /** For messages: "1.25". */
    public static String format(long micros) {
        return toCredits(micros).toPlainString();
    }
}
