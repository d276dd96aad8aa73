package dev.credits.core.domain;

import java.time.Instant;

/** One metered usage event, already validated. */
public sealed interface UsageEvent permits UsageEvent.AiTokens, UsageEvent.WorkloadUnits {
    /** Largest token or unit count accepted in one event. */
    long MAX_QUANTITY = 1_000_000_000_000L;

    String eventId();

    /** When the app says it happened (optional, informational); charges are booked when recorded. */
    Instant occurredAt();

    EntryType type();

    /** A canonical text of everything that defines the event; same text means same event. */
    String canonical();

    default String requestHash() {
        return Hashes.sha256(canonical());
    }

    record AiTokens(String eventId, String model, long inputTokens, long outputTokens, Instant occurredAt)
            implements UsageEvent {
        public AiTokens {
            if (!EventId.isValid(eventId)) throw new IllegalArgumentException("eventId");
            if (model == null || model.isEmpty()) throw new IllegalArgumentException("model");
            if (inputTokens < 0 || outputTokens < 0 || inputTokens > MAX_QUANTITY || outputTokens > MAX_QUANTITY) {
                throw new IllegalArgumentException("tokens");
            }
        }
        @Override public EntryType type() { return EntryType.AI_TOKENS; }
        @Override public String canonical() {
            return "ai_tokens|" + eventId + "|" + model + "|" + inputTokens + "|" + outputTokens + "|" + occurredAt;
        }
    }

    record WorkloadUnits(String eventId, String unitKind, long units, Instant occurredAt) implements UsageEvent {
        public WorkloadUnits {
            if (!EventId.isValid(eventId)) throw new IllegalArgumentException("eventId");
            if (units < 1 || units > MAX_QUANTITY) throw new IllegalArgumentException("units");
        }
        @Override public EntryType type() { return EntryType.WORKLOAD_UNITS; }
        @Override public String canonical() {
            return "workload_units|" + eventId + "|" + unitKind + "|" + units + "|" + occurredAt;
        }
    }
}
