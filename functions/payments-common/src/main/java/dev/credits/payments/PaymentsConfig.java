package dev.credits.payments;

import dev.credits.core.money.Credits;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * How credits are sold: a price per whole credit in the currency's minor units (e.g. 100 = 1.00 USD), the smallest
 * and largest top-up, and the credits each subscription plan grants per paid invoice (by Stripe price id).
 * Read from the environment, failing fast on anything missing or malformed.
 */
public record PaymentsConfig(String currency, long unitAmountMinor, long minCredits, long maxCredits,
                             Map<String, Long> planCreditsMicrosByPrice) {

    public PaymentsConfig {
        if (currency == null || !currency.matches("[a-z]{3}")) throw new IllegalStateException("TOPUP_CURRENCY must be a 3-letter ISO code");
        if (unitAmountMinor < 1) throw new IllegalStateException("TOPUP_UNIT_AMOUNT must be at least 1");
        if (minCredits < 1 || maxCredits < minCredits) throw new IllegalStateException("TOPUP_MIN_CREDITS/TOPUP_MAX_CREDITS are inconsistent");
        if (Math.multiplyHigh(maxCredits, unitAmountMinor) != 0 || maxCredits * unitAmountMinor > 99_999_999L) {
            throw new IllegalStateException("TOPUP_MAX_CREDITS * TOPUP_UNIT_AMOUNT exceeds what Stripe accepts in one payment");
        }
        planCreditsMicrosByPrice = Map.copyOf(planCreditsMicrosByPrice);
    }

    public static PaymentsConfig fromEnv(Map<String, String> env) {
        return new PaymentsConfig(
                env.getOrDefault("TOPUP_CURRENCY", "usd").toLowerCase(Locale.ROOT),
                parse(env, "TOPUP_UNIT_AMOUNT", "100"),
                parse(env, "TOPUP_MIN_CREDITS", "5"),
                parse(env, "TOPUP_MAX_CREDITS", "10000"),
                plans(env.getOrDefault("PLAN_CREDITS", "")));
    }

    private static long parse(Map<String, String> env, String name, String fallback) {
        String v = env.getOrDefault(name, fallback);
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalStateException(name + " must be a whole number, not '" + v + "'");
        }
    }

    /** {@code price_123=1000,price_456=5000}: credits granted per paid invoice of that price. */
    static Map<String, Long> plans(String spec) {
        Map<String, Long> out = new HashMap<>();
        for (String part : spec.split(",")) {
            if (part.isBlank()) continue;
            String[] kv = part.split("=", 2);
            if (kv.length != 2) throw new IllegalStateException("PLAN_CREDITS entry '" + part + "' is not price_id=credits");
            try {
                out.put(kv[0].trim(), Credits.toMicros(new java.math.BigDecimal(kv[1].trim()), false));
            } catch (NumberFormatException | Credits.AmountException e) {
                throw new IllegalStateException("PLAN_CREDITS entry '" + part + "' has a bad amount");
            }
        }
        return out;
    }

    /** What a top-up of this many whole credits costs, in minor units. */
    public long amountFor(long credits) {
        return Math.multiplyExact(credits, unitAmountMinor);
    }
}
