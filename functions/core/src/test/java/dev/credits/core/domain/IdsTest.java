package dev.credits.core.domain;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** AccountId: 1..64 of A-Z a-z 0-9 _ -. EventId: 1..128 printable ASCII, no spaces. */
class IdsTest {
    private static final String ID_64 = "a".repeat(64);
    private static final String EVT_128 = "e".repeat(128);

    @ParameterizedTest
    @ValueSource(strings = {"a", "Z", "0", "_", "-", "acct-1", "Acct_2025-x", "ABCxyz0189_-"})
    void validAccountIds(String s) {
        assertTrue(AccountId.isValid(s));
        assertEquals(s, new AccountId(s).value());
        assertEquals(s, new AccountId(s).toString());
    }

    @Test
    void accountIdLengthLimits() {
        assertTrue(AccountId.isValid(ID_64));
        assertDoesNotThrow(() -> new AccountId(ID_64));
        assertFalse(AccountId.isValid(ID_64 + "a"));
        assertThrows(IllegalArgumentException.class, () -> new AccountId(ID_64 + "a"));
        assertFalse(AccountId.isValid(""));
        assertFalse(AccountId.isValid(null));
        assertThrows(IllegalArgumentException.class, () -> new AccountId(null));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "a#b", "#", "a b", " a", "a ", "a.b", "a/b", "a:b", "a\nb", "\u00e9",
            "\u0661", "\uff21", "a\u0000", "a|b", "a%23"})
    void invalidAccountIds(String s) {
        assertFalse(AccountId.isValid(s));
        assertThrows(IllegalArgumentException.class, () -> new AccountId(s));
    }

    @ParameterizedTest
    @ValueSource(strings = {"e", "evt-7f3a", "req-99c1", "!", "~", "a#b|c", "{\"json\":1}"})
    void validEventIds(String s) {
        assertTrue(EventId.isValid(s));
    }

    @Test
    void eventIdLengthLimits() {
        assertTrue(EventId.isValid(EVT_128));
        assertFalse(EventId.isValid(EVT_128 + "e"));
        assertFalse(EventId.isValid(""));
        assertFalse(EventId.isValid(null));
    }

    @ParameterizedTest
    @ValueSource(strings = {" ", "evt 1", " evt", "evt ", "evt\t1", "evt\n", "evt\r", "evt\u007f", "evt\u0000",
            "\u00e9vt", "evt\u00a0", "evt\u2028", "\uD83D\uDE00"})
    void invalidEventIds(String s) {
        assertFalse(EventId.isValid(s));
    }
}
