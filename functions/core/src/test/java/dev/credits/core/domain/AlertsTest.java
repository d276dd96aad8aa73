package dev.credits.core.domain;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class AlertsTest {
    private static final AccountId A = new AccountId("acme");

    /** An active account's image: balance, soft limit (or none), revision, stop state. */
    private static Alerts.Image image(long balance, Long soft, long rev, Alerts.State stop) {
        return new Alerts.Image(A, balance, 0, soft, soft == null ? balance : balance - soft, rev, stop, 3, false);
    }

    private static List<Alerts.Alert> write(Alerts.Image before, Alerts.Image after) {
        return Alerts.decide(before, after);
    }

    @Test
    void aWriteFromAboveToBelowIsOneCrossingKeyedByItsRevision() {
        assertEquals(List.of(new Alerts.Alert(Alerts.Kind.SOFT_LIMIT, A, 8, 100, 500)),
                write(image(600, 500L, 7, null), image(100, 500L, 8, null)));
        assertEquals(List.of(new Alerts.Alert(Alerts.Kind.SOFT_LIMIT, A, 8, 499, 500)),
                write(image(500, 500L, 7, null), image(499, 500L, 8, null)), "from exactly at the limit");
    }

    @Test
    void noCrossingNoAlert() {
        assertEquals(List.of(), write(image(900, 500L, 1, null), image(500, 500L, 2, null)), "down to the limit is not below it");
        assertEquals(List.of(), write(image(400, 500L, 1, null), image(100, 500L, 2, null)), "already below: none while below");
        assertEquals(List.of(), write(image(100, 500L, 1, null), image(700, 500L, 2, null)), "back up: nothing to send");
    }

    @Test
    void downUpDownIsTwoAlertsWhateverTheOrderTheRecordsAreReadIn() {
        var r1 = write(image(600, 500L, 1, null), image(100, 500L, 2, null));
        var r2 = write(image(100, 500L, 2, null), image(600, 500L, 3, null));
        var r3 = write(image(600, 500L, 3, null), image(150, 500L, 4, null));
        assertEquals(1, r1.size());
        assertEquals(List.of(), r2);
        assertEquals(1, r3.size());
        assertNotEquals(r1.get(0).occurrence(), r3.get(0).occurrence(), "two crossings, two idempotency keys");
        assertEquals(r1, write(image(600, 500L, 1, null), image(100, 500L, 2, null)), "a redelivered record asks for the same alert");
    }

    @Test
    void settingOrRaisingTheSoftLimitAboveTheBalanceIsACrossingLoweringOrMovingItWhileBelowIsNot() {
        assertEquals(1, write(image(100, null, 1, null), image(100, 500L, 2, null)).size(), "a new soft limit above the balance");
        assertEquals(1, write(image(300, 200L, 1, null), image(300, 500L, 2, null)).size(), "raised above the balance");
        assertEquals(List.of(), write(image(300, 400L, 1, null), image(300, 500L, 2, null)), "raised while already below");
        assertEquals(List.of(), write(image(300, 400L, 1, null), image(300, 100L, 2, null)), "lowered below the balance");
        assertEquals(List.of(), write(image(300, 100L, 1, null), image(300, null, 2, null)), "cleared");
    }

    @Test
    void aCreatedAccountHasCrossedNothingYet() {
        assertEquals(List.of(), write(null, image(0, 500L, 0, null)), "created below its soft limit (an INSERT)");
    }

    @Test
    void aClosedAccountGetsNoAlert() {
        Alerts.Image closed = new Alerts.Image(A, 0, 0, 500L, -500, 9, Alerts.State.PENDING, 1, true);
        assertEquals(List.of(), write(image(600, 500L, 8, null), closed), "the forfeit of a closed account is not 'running low'");
    }

    @Test
    void noSoftLimitNoSoftAlert() {
        assertEquals(List.of(), write(image(100, null, 1, null), image(-100, null, 2, null)));
    }

    @Test
    void aPendingStopSendsItsEpisodeAndBothCanHappenTogether() {
        List<Alerts.Alert> d = write(image(600, 500L, 1, null), image(100, 500L, 2, Alerts.State.PENDING));
        assertEquals(List.of(new Alerts.Alert(Alerts.Kind.SOFT_LIMIT, A, 2, 100, 500),
                new Alerts.Alert(Alerts.Kind.HARD_LIMIT, A, 3, 100, 0)), d);
        assertEquals(List.of(), write(image(100, null, 1, null), image(100, null, 1, Alerts.State.SENT)), "already told");
    }
}
