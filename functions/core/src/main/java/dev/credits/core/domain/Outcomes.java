package dev.credits.core.domain;

import java.time.LocalDate;
import java.util.List;

/** Outcomes of the account operations other than charging. Each is exhaustive, so handlers map every case. */
public final class Outcomes {
    private Outcomes() {}

    public sealed interface Create {
        record Created(Account account) implements Create {}
        /** The same create again (a retry after a lost answer): the account as it is now. */
        record AlreadyCreated(Account account) implements Create {}
        record Exists(AccountId id) implements Create {}
    }

    public sealed interface SetLimits {
        record Updated(Account account) implements SetLimits {}
        record Invalid(Limits.Problem problem) implements SetLimits {}
        record Closed(AccountId id) implements SetLimits {}
        record NotFound(AccountId id) implements SetLimits {}
    }

    public sealed interface Close {
        record Closed(Account account, LedgerEntry forfeit) implements Close {}
        record AlreadyClosed(Account account) implements Close {}
        record NotFound(AccountId id) implements Close {}
    }

    /** One page of Usage History, newest first; {@code nextBefore} is the position to continue from, or null. */
    public record HistoryPage(List<LedgerEntry> items, String nextBefore) {}

    /** Usage totals of one UTC day. Credits are micro-credits. */
    public record DayTotals(LocalDate day, long aiCredits, long aiInputTokens, long aiOutputTokens, long aiEvents,
                            long wuCredits, long wuUnits, long wuEvents) {
        public static DayTotals empty(LocalDate day) { return new DayTotals(day, 0, 0, 0, 0, 0, 0, 0); }
        public long credits() { return aiCredits + wuCredits; }
    }
}
