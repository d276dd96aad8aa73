package dev.credits.core.domain;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class AlertsTest {
    private static final AccountId A = new AccountId("acme");

    private static Alerts.Image image(long balance, Long soft, Alerts.State softState, long softEpisode, Alerts.State stop) {
        return new Alerts.Image(A, balance, balance, 0, soft, soft == null ? 0 : balance - soft, softState, softEpisode, stop, 3, false);
    }

    @Test
    void armedAndBelowSendsTheAlertOfThatEpisode() {
        assertEquals(List.of(new Alerts.Decision.Send(Alerts.Kind.SOFT_LIMIT, A, 4, 100, 500)),
                Alerts.decide(image(100, 500L, Alerts.State.ARMED, 4, null)));
    }

    @Test
    void armedAndAboveOrAtDoesNothing() {
        assertEquals(List.of(), Alerts.decide(image(500, 500L, Alerts.State.ARMED, 1, null)));
        assertEquals(List.of(), Alerts.decide(image(900, 500L, Alerts.State.ARMED, 1, null)));
    }

    @Test
    void sentAndBelowDoesNothingSentAndBackAtOrAboveRearms() {
        assertEquals(List.of(), Alerts.decide(image(100, 500L, Alerts.State.SENT, 1, null)));
        assertEquals(List.of(new Alerts.Decision.Rearm(Alerts.Kind.SOFT_LIMIT, A, 1)), Alerts.decide(image(500, 500L, Alerts.State.SENT, 1, null)));
    }

    @Test
    void aClosedAccountGetsNoAlert() {
        Alerts.Image closed = new Alerts.Image(A, -5, -5, 0, 500L, -505, Alerts.State.ARMED, 1, Alerts.State.PENDING, 1, true);
        assertEquals(List.of(), Alerts.decide(closed));
    }

    @Test
    void noSoftLimitNoSoftAlert() {
        assertEquals(List.of(), Alerts.decide(image(-100, null, null, 0, null)));
    }

    @Test
    void aPendingStopSendsOnceAndBothCanHappenTogether() {
        List<Alerts.Decision> d = Alerts.decide(image(100, 500L, Alerts.State.ARMED, 2, Alerts.State.PENDING));
        assertEquals(2, d.size());
        assertEquals(new Alerts.Decision.Send(Alerts.Kind.HARD_LIMIT, A, 3, 100, 0), d.get(1));
        assertEquals(List.of(), Alerts.decide(image(100, null, null, 0, Alerts.State.SENT)), "already told");
    }
}
