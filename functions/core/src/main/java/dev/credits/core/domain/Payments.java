package dev.credits.core.domain;

import java.util.Map;

/** Credits bought through Stripe, and what a refund or dispute takes back. Pure rules, no Stripe types. */
public final class Payments {
    private Payments() {}

    /**
     * The credits to have clawed back in total for one payment: the refunded and disputed share of what was paid,
     * each rounded down to a whole micro-credit (in the customer's favour), never more than was credited.
     *
     * @param creditedMicros credits the payment bought
     * @param paidMinor      what was paid, in the currency's minor units
     * @param refundedMinor  cumulative amount refunded on the charge (Stripe's {@code amount_refunded})
     * @param disputedMinor  amount of each dispute, by dispute id
     */
    public static long clawbackTarget(long creditedMicros, long paidMinor, long refundedMinor, Map<String, Long> disputedMinor) {
        if (paidMinor <= 0 || creditedMicros <= 0) return 0;
        long total = share(creditedMicros, refundedMinor, paidMinor);
        for (long d : disputedMinor.values()) total += share(creditedMicros, d, paidMinor);
        return Math.min(creditedMicros, total);
    }

    private static long share(long credited, long part, long whole) {
        if (part <= 0) return 0;
        if (part >= whole) return credited;
        return java.math.BigInteger.valueOf(credited).multiply(java.math.BigInteger.valueOf(part))
                .divide(java.math.BigInteger.valueOf(whole)).longValueExact();
    }
}
