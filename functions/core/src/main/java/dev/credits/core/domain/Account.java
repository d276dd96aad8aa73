package dev.credits.core.domain;

import java.time.Instant;

/**
 * An account as stored. Amounts are micro-credits.
 *
 * <p>The store also keeps {@code spendable = balance - held - hardLimit} as its own attribute, because a
 * DynamoDB condition cannot do arithmetic: every write that moves any of the three moves it too.
 */
public record Account(
        AccountId id,
        AccountStatus status,
        long balance,
        long held,
        long hardLimit,
        Long softLimit,
        String alertEmail,
        String plan,
        Instant createdAt,
        Instant updatedAt,
        Instant closedAt) {

    public Account {
        if (id == null || status == null || createdAt == null || updatedAt == null) {
            throw new IllegalArgumentException("id, status and times are required");
        }
        if (held < 0) throw new IllegalArgumentException("held must not be negative");
    }

    /** What can still be spent before anything is held: balance minus held credits. */
    public long available() { return balance - held; }

    /** What a charge may take without crossing the hard limit. */
    public long spendable() { return balance - held - hardLimit; }
}
