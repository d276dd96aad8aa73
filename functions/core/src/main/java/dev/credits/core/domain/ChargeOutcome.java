package dev.credits.core.domain;

/** What recording one usage event did. Exactly one of these; the handler maps each to a response. */
public sealed interface ChargeOutcome {
    /** First time: charged, with the account as read right after the charge committed. */
    record Charged(LedgerEntry entry, Account after) implements ChargeOutcome {}

    /** The same event was recorded before with the same body: nothing charged now. */
    record Replayed(LedgerEntry entry, Account current) implements ChargeOutcome {}

    /** The same eventId was recorded before with a different body. */
    record IdempotencyConflict(LedgerEntry existing) implements ChargeOutcome {}

    /** Refused whole: the cost would take balance minus held credits below the hard limit. */
    record HardLimitReached(long cost, Account account) implements ChargeOutcome {}

    record AccountClosed(AccountId id) implements ChargeOutcome {}

    record AccountNotFound(AccountId id) implements ChargeOutcome {}

    /** A credit that would take the balance past the largest balance an account may hold. */
    record BalanceCapExceeded(long amount, Account account) implements ChargeOutcome {}

    /** One of the extra items posted with the entry (by its index among them) failed its condition: nothing applied. */
    record ExtraConditionFailed(int index) implements ChargeOutcome {}
}
