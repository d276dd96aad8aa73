package dev.credits.core.domain;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.Map;

/**
 * A reservation of credits for a call in progress, priced at its worst case. {@code remaining} is what captures may
 * still charge; the account's {@code held} counts the remaining of every open hold.
 */
public record Hold(AccountId account, String holdId, EntryType feature, String model, Long inputTokens,
                   Long maxOutputTokens, String unitKind, Long maxUnits, long held, long captured, long remaining,
                   Status status, Instant createdAt, Instant expiresAt, Map<String, BigDecimal> rates,
                   String priceBookVersion) {

    public enum Status { OPEN, FINISHED, RELEASED, EXPIRED }

    public Hold {
        rates = rates == null ? Map.of() : Map.copyOf(rates);
    }

    /**
     * This hold after a capture of {@code cost} committed against exactly this state; a final capture finishes it and
     * gives back the rest.
     */
    public Hold afterCapture(long cost, boolean last) {
        return new Hold(account, holdId, feature, model, inputTokens, maxOutputTokens, unitKind, maxUnits, held,
                captured + cost, last ? 0 : remaining - cost, last ? Status.FINISHED : status, createdAt, expiresAt, rates,
                priceBookVersion);
    }

    public boolean expiredAt(Instant now) {
        return status == Status.EXPIRED || (status == Status.OPEN && !now.isBefore(expiresAt));
    }
}
