package dev.credits.local;

import dev.credits.core.domain.Payments;
import dev.credits.local.ModelOps.*;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A simple in-memory model of one account: balance, limits, status, the idempotency records (events, grants,
 * sessions, per-payment refund and dispute facts), and the alerts as the README describes them: one soft-limit alert
 * per write that takes the balance from at or above the soft limit to below it (however many such crossings happen
 * before the alert function reads the stream), and the "usage stopped" state machine.
 *
 * <p>Concurrent steps: the service may serialize a step's operations in any order, and some operations are two
 * atomic effects (a refused charge, then the write that records the first refusal of a stop episode; a payment or
 * refund fact, then the clawback it makes owed). {@link #explain} searches every interleaving of those effects and
 * accepts the step only if one of them reproduces, exactly, every answer the service gave, the account as it reads
 * afterwards, the ledger entries the step added (type and amount, as a multiset), the alerts that reached SNS and
 * the alert states on the account item. So money is checked exactly, and a race is judged by "some serial order
 * explains it", never by a tolerance.
 */
final class CreditsModel {
    enum Stop { ARMED, PENDING, SENT }

    /** The facts of one payment intent, as the service keeps them. */
    static final class Pay {
        long credited = -1; // -1: not credited (yet)
        long paid;
        long refunded;
        long clawed;
        TreeMap<String, Long> disputes = new TreeMap<>();

        Pay copy() {
            Pay p = new Pay();
            p.credited = credited; p.paid = paid; p.refunded = refunded; p.clawed = clawed;
            p.disputes = new TreeMap<>(disputes);
            return p;
        }

        String key() { return credited + "," + paid + "," + refunded + "," + clawed + "," + disputes; }
    }

    /** The committed model of one account (after a step was explained). */
    static final class Account {
        final String name;
        boolean closed;
        long balance;
        long hard;
        long soft;
        Stop stop = Stop.ARMED;
        final Map<String, Usage> events = new HashMap<>();   // charged events only: a refusal leaves no trace
        final Map<String, Grant> grants = new HashMap<>();
        final Set<String> sessions = new HashSet<>();
        final Map<String, Pay> pays = new HashMap<>();

        Account(String name, long soft) { this.name = name; this.soft = soft; }
    }

    /** What the service answered one operation. {@code unsure}: an earlier attempt was a 503 (its effect unknown). */
    record Answer(int status, Long charged, Long forfeited, boolean unsure) {}

    /** What the service shows after a step, for one account. */
    record Observed(boolean closed, long balance, long held, long hard, Long soft, List<String> newEntries,
                    Stop stopAtRest, Integer softAlerts, Integer stopAlerts) {}

    /** One interleaving in progress: the account's scalars, the step's additions, and what it produced. */
    private static final class Sim {
        boolean closed;
        long balance, hard, soft;
        Stop stop;
        Map<String, Usage> events = new HashMap<>();
        Map<String, Grant> grants = new HashMap<>();
        Set<String> sessions = new HashSet<>();
        Map<String, Pay> pays = new HashMap<>();
        List<String> entries = new ArrayList<>();
        long headroom;      // balance - soft limit at the last write of the account item
        int softAlerts;     // downward crossings of the soft limit in this step
        int stopAlerts;
        // per operation: what its first effect decided for its second (a refusal that saw the stop armed; a credit)
        boolean[] flag;

        Sim copy() {
            Sim s = new Sim();
            s.closed = closed; s.balance = balance; s.hard = hard; s.soft = soft; s.stop = stop;
            s.events = new HashMap<>(events); s.grants = new HashMap<>(grants); s.sessions = new HashSet<>(sessions);
            s.pays = new HashMap<>();
            pays.forEach((k, v) -> s.pays.put(k, v.copy()));
            s.entries = new ArrayList<>(entries);
            s.headroom = headroom; s.softAlerts = softAlerts; s.stopAlerts = stopAlerts;
            s.flag = flag.clone();
            return s;
        }

        String key() {
            List<String> sorted = new ArrayList<>(entries);
            Collections.sort(sorted);
            Map<String, String> p = new TreeMap<>();
            pays.forEach((k, v) -> p.put(k, v.key()));
            return closed + "|" + balance + "|" + hard + "|" + soft + "|" + stop + "|" + new TreeMap<>(events).keySet() + "|"
                    + new TreeMap<>(grants).keySet() + "|" + new java.util.TreeSet<>(sessions) + "|" + p + "|" + sorted
                    + "|" + headroom + "," + softAlerts + "," + stopAlerts + "|" + java.util.Arrays.toString(flag);
        }
    }

    private final Account a;
    private final boolean mutantPrices;

    CreditsModel(Account a, boolean mutantPrices) {
        this.a = a;
        this.mutantPrices = mutantPrices;
    }

    private Usage ev(Sim s, String id) {
        Usage u = s.events.get(id);
        return u != null ? u : a.events.get(id);
    }

    private Grant gr(Sim s, String id) {
        Grant g = s.grants.get(id);
        return g != null ? g : a.grants.get(id);
    }

    private Pay pay(Sim s, String pi) {
        Pay p = s.pays.get(pi);
        if (p == null) {
            Pay base = a.pays.get(pi);
            p = base == null ? new Pay() : base.copy();
            s.pays.put(pi, p);
        }
        return p;
    }

    /**
     * The account item was written: the alert function will see this record's old and new images. From at or above
     * the soft limit to below it is a crossing, one alert each (closed images are told nothing).
     */
    private static void image(Sim s) {
        if (s.closed) return;
        long now = s.balance - s.soft;
        if (s.headroom >= 0 && now < 0) s.softAlerts++;
        s.headroom = now;
    }

    private static int effects(Op op) {
        return switch (op) {
            case Usage u -> 2;       // the charge or refusal; then, for a first refusal, the "stopped" mark
            case Session x -> 2;     // the credit; then the clawback a refund that came first made owed
            case Refund x -> 2;      // the fact; then the clawback
            case Dispute x -> 2;
            default -> 1;
        };
    }

    private long cost(Usage u) {
        // the shrinker's own test: a model that is wrong about one price must be caught and shrunk
        return mutantPrices && "gpt-4o-mini".equals(u.model()) ? u.cost() + 1 : u.cost();
    }

    /** Applies effect {@code e} of operation {@code i}; returns the answer it predicts (first effects), or null. */
    private Answer apply(Sim s, int i, Op op, int e) {
        switch (op) {
            case Usage u -> {
                if (e == 1) {
                    if (s.flag[i] && !s.closed && s.stop == Stop.ARMED) {
                        s.stop = Stop.PENDING;
                        s.stopAlerts++;
                        image(s);
                    }
                    return null;
                }
                Usage first = ev(s, u.eventId());
                if (first != null) return first.body().equals(u.body()) ? new Answer(200, cost(first), null, false) : new Answer(409, null, null, false);
                if (s.closed) return new Answer(403, null, null, false);
                long c = cost(u);
                if (s.balance - s.hard >= c) {
                    s.balance -= c;
                    s.events.put(u.eventId(), u);
                    s.entries.add(u.type() + " " + (-c));
                    image(s);
                    return new Answer(201, c, null, false);
                }
                s.flag[i] = s.stop == Stop.ARMED;
                return new Answer(402, null, null, false);
            }
            case Grant g -> {
                Grant first = gr(s, g.grantId());
                if (first != null) return first.micros() == g.micros() ? new Answer(200, null, null, false) : new Answer(409, null, null, false);
                if (s.closed) return new Answer(403, null, null, false);
                s.balance += g.micros();
                s.grants.put(g.grantId(), g);
                s.entries.add("grant " + g.micros());
                s.stop = Stop.ARMED;
                image(s);
                return new Answer(201, null, null, false);
            }
            case Limits l -> {
                if (s.closed) return new Answer(403, null, null, false);
                if (l.hard() < s.hard) s.stop = Stop.ARMED; // a lower floor ends a "usage stopped" episode
                s.hard = l.hard();
                s.soft = l.soft();
                image(s);
                return new Answer(200, null, null, false);
            }
            case Close c -> {
                if (s.closed) return new Answer(200, null, null, false);
                long forfeit = Math.max(s.balance, 0);
                s.balance -= forfeit;
                s.closed = true;
                s.entries.add("forfeit " + (-forfeit));
                return new Answer(200, null, forfeit, false);
            }
            case Session x -> {
                if (e == 1) {
                    if (s.flag[i]) reconcile(s, x.pi());
                    return null;
                }
                if (!x.paid() || s.sessions.contains(x.session()) || a.sessions.contains(x.session()) || s.closed) {
                    return new Answer(200, null, null, false); // not paid yet, already credited, or kept for review
                }
                long micros = x.credits() * ModelOps.MICROS;
                s.balance += micros;
                s.sessions.add(x.session());
                s.entries.add("topup " + micros);
                s.stop = Stop.ARMED;
                Pay p = pay(s, x.pi());
                p.credited = micros;
                p.paid = x.amountMinor();
                s.flag[i] = true;
                image(s);
                return new Answer(200, null, null, false);
            }
            case Refund r -> {
                if (e == 1) { reconcile(s, r.pi()); return null; }
                Pay p = pay(s, r.pi());
                p.refunded = Math.max(p.refunded, r.refundedMinor());
                return new Answer(200, null, null, false);
            }
            case Dispute d -> {
                if (e == 1) { reconcile(s, d.pi()); return null; }
                pay(s, d.pi()).disputes.putIfAbsent(d.dispute(), d.amountMinor());
                return new Answer(200, null, null, false);
            }
            case DisputeClosed d -> {
                return new Answer(200, null, null, false);
            }
        }
    }

    /** Brings the payment's clawback up to what its facts owe, unless the account was closed (then: review). */
    private void reconcile(Sim s, String pi) {
        Pay p = pay(s, pi);
        if (p.credited < 0) return;
        long target = Payments.clawbackTarget(p.credited, p.paid, p.refunded, p.disputes);
        if (target <= p.clawed || s.closed) return;
        long amount = target - p.clawed;
        s.balance -= amount;
        p.clawed = target;
        s.entries.add("clawback " + (-amount));
        image(s);
    }

    private static boolean matches(Answer predicted, Answer seen) {
        if (predicted.status() == seen.status()) {
            if (predicted.charged() != null && !predicted.charged().equals(seen.charged())) return false;
            return predicted.forfeited() == null || predicted.forfeited().equals(seen.forfeited()) || seen.unsure();
        }
        // an attempt answered 503 may have committed: its retry then reads as a replay of itself
        return seen.unsure() && predicted.status() == 201 && seen.status() == 200
                && (predicted.charged() == null || predicted.charged().equals(seen.charged()));
    }

    /** The result of explaining a step: null when some interleaving explains it, else why none does. */
    String explain(List<Op> ops, List<Answer> answers, Observed seen, boolean checkAlerts) {
        Sim root = new Sim();
        root.closed = a.closed; root.balance = a.balance; root.hard = a.hard; root.soft = a.soft; root.stop = a.stop;
        root.headroom = a.balance - a.soft;
        root.flag = new boolean[ops.size()];
        int[] progress = new int[ops.size()];
        Set<String> visited = new HashSet<>();
        Set<String> why = new java.util.LinkedHashSet<>();
        Sim[] found = new Sim[1];
        int[] nodes = {0};
        search(ops, answers, seen, checkAlerts, root, progress, visited, why, found, nodes);
        if (found[0] != null) {
            commit(found[0]);
            return null;
        }
        return why.isEmpty() ? "no interleaving of the step's effects reproduces the answers the service gave"
                : "no serial order of the step's effects explains what the service did; the first disagreements met:\n      "
                        + String.join("\n      ", why.stream().limit(4).toList());
    }

    private void search(List<Op> ops, List<Answer> answers, Observed seen, boolean checkAlerts, Sim s, int[] progress,
                        Set<String> visited, Set<String> why, Sim[] found, int[] nodes) {
        if (found[0] != null) return;
        if (++nodes[0] > 2_000_000) throw new IllegalStateException("interleaving search too large");
        boolean done = true;
        for (int i = 0; i < ops.size(); i++) {
            if (progress[i] >= effects(ops.get(i))) continue;
            done = false;
            Sim next = s.copy();
            Answer predicted = apply(next, i, ops.get(i), progress[i]);
            if (predicted != null && !matches(predicted, answers.get(i))) {
                if (why.size() < 8) why.add("in some order: " + ops.get(i).describe() + " -> model " + predicted + ", service " + answers.get(i));
                continue;
            }
            progress[i]++;
            if (visited.add(java.util.Arrays.toString(progress) + next.key())) {
                search(ops, answers, seen, checkAlerts, next, progress, visited, why, found, nodes);
            }
            progress[i]--;
            if (found[0] != null) return;
        }
        if (done) {
            String miss = leafMismatch(s, seen, checkAlerts);
            if (miss == null) found[0] = s;
            else if (why.size() < 8) why.add(miss);
        }
    }

    /** Why this complete interleaving does not reproduce what the service shows, or null if it does. */
    private String leafMismatch(Sim s, Observed o, boolean checkAlerts) {
        if (s.closed != o.closed()) return "status: model " + (s.closed ? "CLOSED" : "ACTIVE") + ", service " + (o.closed() ? "CLOSED" : "ACTIVE");
        if (s.balance != o.balance()) return "balance: model " + ModelOps.credits(s.balance) + ", service " + ModelOps.credits(o.balance());
        if (o.held() != 0) return "held: service " + o.held() + " with no hold placed";
        if (s.hard != o.hard()) return "hardLimit: model " + s.hard + ", service " + o.hard();
        if (o.soft() == null || s.soft != o.soft()) return "softLimit: model " + s.soft + ", service " + o.soft();
        List<String> mine = new ArrayList<>(s.entries);
        List<String> theirs = new ArrayList<>(o.newEntries());
        Collections.sort(mine);
        Collections.sort(theirs);
        if (!mine.equals(theirs)) return "new ledger entries: model " + mine + ", service " + theirs;
        Stop atRest = s.stop == Stop.PENDING ? Stop.SENT : s.stop;
        if (atRest != o.stopAtRest()) return "stop alert state at rest: model " + atRest + ", service " + o.stopAtRest();
        if (checkAlerts) {
            int soft = s.softAlerts; // zero on a closed account: its images are told nothing
            if (o.softAlerts() != soft) return "soft-limit alerts this step: model " + soft + ", SNS " + o.softAlerts();
            if (o.stopAlerts() != s.stopAlerts) return "usage-stopped alerts this step: model " + s.stopAlerts + ", SNS " + o.stopAlerts();
        }
        return null;
    }

    private void commit(Sim s) {
        a.closed = s.closed; a.balance = s.balance; a.hard = s.hard; a.soft = s.soft;
        a.stop = s.stop == Stop.PENDING ? Stop.SENT : s.stop;
        a.events.putAll(s.events);
        a.grants.putAll(s.grants);
        a.sessions.addAll(s.sessions);
        a.pays.putAll(s.pays);
    }

    /** Soft alerts and stop alerts the committed step produced are already checked; this is the account. */
    Account account() { return a; }
}
