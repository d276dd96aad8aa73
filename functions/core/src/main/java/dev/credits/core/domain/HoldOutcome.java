package dev.credits.core.domain;

/** What a hold, capture or release did. */
public sealed interface HoldOutcome {
    /** A hold placed (or, replayed, found placed before with the same body). */
    record Held(Hold hold, Account after, boolean replayed) implements HoldOutcome {}
    /** A capture charged (or replayed), and the hold as it is after it. */
    record Captured(LedgerEntry capture, Hold hold, Account after, boolean replayed) implements HoldOutcome {}
    /** A hold given back (now or before). */
    record Released(Hold hold, long released, boolean replayed) implements HoldOutcome {}
    record HardLimitReached(long cost, Account account) implements HoldOutcome {}
    record ExceedsHold(Hold hold, long cost) implements HoldOutcome {}
    record Expired(Hold hold) implements HoldOutcome {}
    /** Already finished or released: no more captures. */
    record NotOpen(Hold hold) implements HoldOutcome {}
    record IdempotencyConflict(String id) implements HoldOutcome {}
    record HoldNotFound(String holdId) implements HoldOutcome {}
    record AccountClosed(AccountId id) implements HoldOutcome {}
    record AccountNotFound(AccountId id) implements HoldOutcome {}
}
