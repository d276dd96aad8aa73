package dev.credits.core.domain;

import java.util.ArrayList;
import java.util.List;

/**
 * The alert rules, as a pure function of one account image. The account item carries two small state machines,
 * advanced by the stream-fed alert function and by the writes that move the balance:
 *
 * <pre>
 * soft limit:  ARMED --(balance below the soft limit)--> alert once, SENT --(balance back at or above it)--> ARMED
 * hard limit:  ARMED --(first refused usage event)--> PENDING --> alert once, SENT --(credit added, floor lowered)--> ARMED
 * </pre>
 * Each ARMED period is an episode with a number; an alert is keyed by (account, kind, episode), so a duplicate or
 * replayed stream record can never send a second email for the same crossing.
 */
public final class Alerts {
    private Alerts() {}

    public enum State {
        ARMED, PENDING, SENT;
        public String wire() { return name().toLowerCase(); }
        public static State fromWire(String s) {
            if (s == null) return null;
            for (State st : values()) if (st.wire().equals(s)) return st;
            return null;
        }
    }

    public enum Kind {
        SOFT_LIMIT("soft_limit"), HARD_LIMIT("hard_limit");
        private final String wire;
        Kind(String wire) { this.wire = wire; }
        public String wire() { return wire; }
    }

    /**
     * What an account image says about alerts. Amounts are micro-credits.
     * @param softHeadroom balance - softLimit (meaningful only while a soft limit is set)
     */
    public record Image(AccountId account, long balance, long spendable, long hardLimit, Long softLimit,
                        long softHeadroom, State softState, long softEpisode, State stopState, long stopEpisode,
                        boolean closed) {}

    public sealed interface Decision {
        Kind kind();
        AccountId account();
        /** Send the alert of this episode (once), then mark it sent. */
        record Send(Kind kind, AccountId account, long episode, long balance, long threshold) implements Decision {}
        /** The condition is over (the record shows the balance back up): arm the episode after this one. */
        record Rearm(Kind kind, AccountId account, long episode) implements Decision {}
    }

    public static List<Decision> decide(Image i) {
        List<Decision> out = new ArrayList<>(2);
        if (i.closed()) return out; // a closed account is told nothing more (its forfeit is not "running low")
        if (i.softLimit() != null && i.softState() != null) {
            if (i.softState() == State.ARMED && i.softHeadroom() < 0) {
                out.add(new Decision.Send(Kind.SOFT_LIMIT, i.account(), i.softEpisode(), i.balance(), i.softLimit()));
            } else if (i.softState() == State.SENT && i.softHeadroom() >= 0) {
                out.add(new Decision.Rearm(Kind.SOFT_LIMIT, i.account(), i.softEpisode()));
            }
        }
        if (i.stopState() == State.PENDING) {
            out.add(new Decision.Send(Kind.HARD_LIMIT, i.account(), i.stopEpisode(), i.balance(), i.hardLimit()));
        }
        // a stop episode ends when credit is added or the hard limit lowered: those writes re-arm it themselves,
        // because a positive balance that is too small for the next event is still a stop
        return out;
    }
}
