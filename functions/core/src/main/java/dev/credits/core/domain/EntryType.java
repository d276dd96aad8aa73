package dev.credits.core.domain;

import java.util.Optional;

/** Kinds of ledger entries. Each balance change is exactly one entry. */
public enum EntryType {
    AI_TOKENS("ai_tokens", true),
    WORKLOAD_UNITS("workload_units", true),
    GRANT("grant", false),
    FORFEIT("forfeit", false),
    TOPUP("topup", false),
    PLAN_CREDIT("plan_credit", false),
    CLAWBACK("clawback", false),
    /** Credits reserved for an AI call in progress: no balance change, only "held" moves. */
    HOLD("hold", false),
    /** Part of a hold charged at the tokens really used: a usage charge. */
    CAPTURE("capture", true),
    /** What was left of a hold given back (released, finished or expired): no balance change. */
    RELEASE("release", false);

    private final String wire;
    private final boolean usage;

    EntryType(String wire, boolean usage) { this.wire = wire; this.usage = usage; }

    public String wire() { return wire; }

    /** A metered charge (shown in the Usage Overview), as opposed to credits added or removed by hand. */
    public boolean isUsage() { return usage; }

    public static Optional<EntryType> fromWire(String s) {
        for (EntryType t : values()) if (t.wire.equals(s)) return Optional.of(t);
        return Optional.empty();
    }
}
