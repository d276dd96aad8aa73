package dev.credits.core.domain;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.Map;

/**
 * One ledger entry: one balance change (or a closing record of zero). {@code amount} is signed micro-credits:
 * negative for charges and forfeits, positive for credits added. Usage fields are null for other types.
 *
 * @param entryId   stable id, unique within the account, derived from the caller's idempotency key
 * @param requestHash hash of the canonical request that produced it, to tell a replay from a conflict
 * @param references  ids in other systems that explain it (Stripe checkout session, payment intent, charge, ...)
 */
public record LedgerEntry(
        AccountId accountId,
        String entryId,
        EntryType type,
        long amount,
        Instant recordedAt,
        Instant occurredAt,
        String eventId,
        String model,
        Long inputTokens,
        Long outputTokens,
        String unitKind,
        Long units,
        Map<String, BigDecimal> rates,
        String priceBookVersion,
        String reason,
        String requestHash,
        Map<String, String> references) {

    public LedgerEntry {
        if (accountId == null || entryId == null || type == null || recordedAt == null) {
            throw new IllegalArgumentException("accountId, entryId, type and recordedAt are required");
        }
        rates = rates == null ? Map.of() : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(rates));
        references = references == null ? Map.of() : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(references));
    }

    /** An entry without external references (usage, grants, forfeits). */
    public LedgerEntry(AccountId accountId, String entryId, EntryType type, long amount, Instant recordedAt,
                       Instant occurredAt, String eventId, String model, Long inputTokens, Long outputTokens,
                       String unitKind, Long units, Map<String, BigDecimal> rates, String priceBookVersion,
                       String reason, String requestHash) {
        this(accountId, entryId, type, amount, recordedAt, occurredAt, eventId, model, inputTokens, outputTokens,
                unitKind, units, rates, priceBookVersion, reason, requestHash, Map.of());
    }

    /** The credits this entry charged, as a positive number, for usage entries. */
    public long charged() { return type.isUsage() ? -amount : 0; }
}
