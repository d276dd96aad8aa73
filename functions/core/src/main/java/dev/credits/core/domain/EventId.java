package dev.credits.core.domain;

/** A caller-chosen idempotency key (usage eventId, grantId, later holdId/captureId): 1 to 128 printable ASCII characters. */
public final class EventId {
    private EventId() {}

    public static boolean isValid(String s) {
        if (s == null || s.isEmpty() || s.length() > 128) return false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x21 || c > 0x7e) return false; // printable, no spaces or control characters
        }
        return true;
    }
}
