package dev.credits.core.domain;

import java.util.ArrayList;
import java.util.List;

/**
 * The alert rules, as a pure function of one write to an account: the item before it and after it (a stream record's
 * old and new images).
 *
 * <pre>
 * soft limit:  no state on the item. A write that takes the balance from at or above the soft limit (or from no soft
 *              limit) to below it is a downward crossing: alert once, keyed by the item revision that write made.
 * hard limit:  ARMED --(first refused usage event)--> PENDING --> alert once, SENT --(credit added, floor lowered)--> ARMED
 * </pre>
 * The soft limit is decided from both images because an image alone is a snapshot: a state field on it can still be
 * the one from before the alert function's last write, so a fast down-up-down looked like one crossing. Every write
 * that moves the headroom increments {@code rev}, so each crossing has its own key, the same on every redelivery.
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
     * @param rev          the item's revision, incremented by every write that moves the balance or the limits
     */
    public record Image(AccountId account, long balance, long hardLimit, Long softLimit, long softHeadroom, long rev,
                        State stopState, long stopEpisode, boolean closed) {
        boolean belowSoftLimit() { return softLimit != null && softHeadroom < 0; }
    }

    /**
     * An alert to send once. {@code occurrence} makes it unique and stays the same when the record is delivered again:
     * the revision of the write that crossed (soft limit), or the stop episode (hard limit).
     */
    public record Alert(Kind kind, AccountId account, long occurrence, long balance, long threshold) {}

    /**
     * @param before the item before the write, or null (the item was created by it: created below its soft limit,
     *               nothing has crossed yet)
     * @param after  the item after the write
     */
    public static List<Alert> decide(Image before, Image after) {
        List<Alert> out = new ArrayList<>(2);
        if (after.closed()) return out; // a closed account is told nothing more (its forfeit is not "running low")
        if (before != null && after.belowSoftLimit() && (before.softLimit() == null || before.softHeadroom() >= 0)) {
            out.add(new Alert(Kind.SOFT_LIMIT, after.account(), after.rev(), after.balance(), after.softLimit()));
        }
        if (after.stopState() == State.PENDING) {
            out.add(new Alert(Kind.HARD_LIMIT, after.account(), after.stopEpisode(), after.balance(), after.hardLimit()));
        }
        // a stop episode ends when credit is added or the hard limit lowered: those writes re-arm it themselves,
        // because a positive balance that is too small for the next event is still a stop
        return out;
    }
}
