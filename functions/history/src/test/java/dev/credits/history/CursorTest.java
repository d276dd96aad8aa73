package dev.credits.history;

import dev.credits.core.http.ApiException;
import dev.credits.core.store.Keys;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The opaque Usage History cursor. */
class CursorTest {

    private static String b64(String s) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    private static void assertBadCursor(String cursor) {
        ApiException e = assertThrows(ApiException.class, () -> HistoryHandler.decodeCursor(cursor), cursor);
        assertEquals(400, e.status());
        assertEquals("invalid_request", e.code());
        assertEquals("cursor", e.details().get("field"));
        assertTrue(e.getMessage().contains("'cursor'"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "2026-11-24T10:00:00.000Z#usage#evt-7f3a",
            "2026-11-24T10:00:00.123Z#grant#g-1",
            "1999-01-01T00:00:00.000Z#usage#a|b~!{}",
            "2026-11-24T10:00:00.000Z#usage#?&=/+",
    })
    void roundTrips(String ts) {
        String cursor = HistoryHandler.encodeCursor(ts);
        assertTrue(cursor.matches("[A-Za-z0-9_-]+"), "URL safe without padding: " + cursor);
        assertFalse(cursor.contains(ts), "opaque");
        assertEquals(ts, HistoryHandler.decodeCursor(cursor));
    }

    @Test
    void roundTripsRealKeys() {
        String ts = Keys.ts(Instant.parse("2026-11-24T10:00:00.5Z"), "usage#" + "~".repeat(128));
        assertEquals(ts, HistoryHandler.decodeCursor(HistoryHandler.encodeCursor(ts)));
        String ts2 = Keys.ts(Instant.parse("2026-11-24T10:00:00Z"), "usage#evt-1");
        assertEquals(ts2, HistoryHandler.decodeCursor(HistoryHandler.encodeCursor(ts2)));
    }

    @Test
    void noCursorMeansFromTheStart() {
        assertNull(HistoryHandler.decodeCursor(null));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "", "garbage!", "%%%", "a b", "====", "abc+/",           // not URL-safe base64, or nothing
            "Zm9v",                                                   // "foo"
            "djF8",                                                   // "v1|"
    })
    void refusesGarbage(String cursor) {
        assertBadCursor(cursor);
    }

    @Test
    void refusesTamperedCursors() {
        String good = "2026-11-24T10:00:00.000Z#usage#evt-1";
        assertBadCursor(b64("v2|" + good));                          // other version
        assertBadCursor(b64(good));                                  // no version
        assertBadCursor(b64("v1|2026-11-24T10:00:00Z#usage#evt-1")); // not the fixed-width time
        assertBadCursor(b64("v1|2026-11-24T10:00:00.000Z"));         // no sort key
        assertBadCursor(b64("v1|2026-11-24T10:00:00.000Z#"));
        assertBadCursor(b64("v1|2026-11-24T10:00:00.000Z#usage#evt 1"));  // space
        assertBadCursor(b64("v1|2026-11-24T10:00:00.000Z#usage#\u00e9")); // non-ASCII
        assertBadCursor(b64("v1|2026-11-24T10:00:00.000Z#" + "x".repeat(201)));
        assertBadCursor(b64("v1|" + good + "\n"));
        assertBadCursor(b64("v1|x" + good));
        String cursor = HistoryHandler.encodeCursor(good);
        assertBadCursor(cursor.substring(0, 14));                    // truncated inside the time
        assertBadCursor(cursor + "!");
        assertBadCursor("A" + cursor);                               // shifted bytes
    }

    @Test
    void errorDoesNotEchoTheCursor() {
        String secret = b64("v1|not-a-time#usage#secret-ish");
        ApiException e = assertThrows(ApiException.class, () -> HistoryHandler.decodeCursor(secret));
        assertFalse(e.getMessage().contains(secret));
    }
}
