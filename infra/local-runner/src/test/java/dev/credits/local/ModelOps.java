package dev.credits.local;

import dev.credits.core.json.Json;

import java.io.IOException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The operations of the model-based test, and the seeded generator of their sequences.
 *
 * <p>Every operation is self-contained (it carries its ids, amounts and body), so any subsequence of a generated
 * sequence is again a valid sequence: a replay whose original was removed is a first attempt, a refund whose payment
 * was removed arrives "before the payment". That is what lets the shrinker delete operations freely. Accounts are
 * logical names ({@code a0}, {@code a1}, ...); each run maps them to fresh account ids, and Stripe ids get a run tag,
 * so a sequence can be replayed any number of times against one DynamoDB stand-in.
 */
final class ModelOps {
    private ModelOps() {}

    static final long MICROS = 1_000_000L;

    sealed interface Op {
        String account();
        String kind();
        /** One line, enough to reproduce it by hand. */
        String describe();
    }

    /** A usage event (either type). A replay or a conflicting retry is the same kind with an eventId seen before. */
    record Usage(String account, String eventId, String type, String model, long in, long out, String unit, long units,
                 long cost, String kind) implements Op {
        String body() {
            return type.equals("ai_tokens")
                    ? "{\"eventId\":\"" + eventId + "\",\"type\":\"ai_tokens\",\"model\":\"" + model + "\",\"inputTokens\":" + in + ",\"outputTokens\":" + out + "}"
                    : "{\"eventId\":\"" + eventId + "\",\"type\":\"workload_units\",\"units\":" + units + ",\"unit\":\"" + unit + "\"}";
        }
        public String describe() { return kind + " " + account + " POST usage " + body() + " (cost " + credits(cost) + ")"; }
    }

    record Grant(String account, String grantId, long micros, String kind) implements Op {
        String body() { return "{\"credits\":" + credits(micros) + ",\"reason\":\"model test\",\"grantId\":\"" + grantId + "\"}"; }
        public String describe() { return kind + " " + account + " POST grants " + body(); }
    }

    record Limits(String account, long hard, long soft) implements Op {
        String body() { return "{\"hardLimit\":" + credits(hard) + ",\"softLimit\":" + credits(soft) + "}"; }
        public String kind() { return "limits"; }
        public String describe() { return "limits " + account + " PUT limits " + body(); }
    }

    record Close(String account) implements Op {
        public String kind() { return "close"; }
        public String describe() { return "close " + account + " POST close"; }
    }

    /** A Checkout Session event: completed (paid or not yet) or async_payment_succeeded. */
    record Session(String account, String session, String pi, long credits, String type, boolean paid, String kind) implements Op {
        long amountMinor() { return credits * 100; } // the suite's price: 100 cents per credit
        public String describe() {
            return kind + " " + account + " webhook " + type + " session=" + session + " pi=" + pi + " credits=" + credits + " paid=" + paid;
        }
    }

    /** charge.refunded with Stripe's cumulative amount_refunded. */
    record Refund(String account, String pi, long amountMinor, long refundedMinor) implements Op {
        public String kind() { return "refund"; }
        public String describe() { return "refund " + account + " webhook charge.refunded pi=" + pi + " amount=" + amountMinor + " refunded=" + refundedMinor; }
    }

    record Dispute(String account, String pi, String dispute, long amountMinor) implements Op {
        public String kind() { return "dispute"; }
        public String describe() { return "dispute " + account + " webhook charge.dispute.created pi=" + pi + " dispute=" + dispute + " amount=" + amountMinor; }
    }

    /** charge.dispute.closed (lost or won): the money moved when the dispute was created; this one changes nothing. */
    record DisputeClosed(String account, String pi, String dispute, long amountMinor, String status) implements Op {
        public String kind() { return "dispute_closed"; }
        public String describe() { return "dispute_closed " + account + " webhook charge.dispute.closed pi=" + pi + " dispute=" + dispute + " status=" + status; }
    }

    static String credits(long micros) {
        return BigDecimal.valueOf(micros, 6).stripTrailingZeros().toPlainString();
    }

    // ------------------------------------------------------------------ prices, read from the price book itself

    /** The price book's rates, read from the same resource the functions package; the cost is computed here, independently. */
    static final class Prices {
        final Map<String, BigDecimal[]> models = new HashMap<>();
        final Map<String, BigDecimal> units = new HashMap<>();

        @SuppressWarnings("unchecked")
        Prices() {
            try (InputStream in = ModelOps.class.getResourceAsStream("/pricebook.json")) {
                Map<String, Object> book = Json.parseObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
                ((Map<String, Object>) book.get("aiModels")).forEach((k, v) -> {
                    Map<String, Object> r = (Map<String, Object>) v;
                    models.put(k, new BigDecimal[]{(BigDecimal) r.get("inputPer1M"), (BigDecimal) r.get("outputPer1M")});
                });
                Map<String, Object> wu = (Map<String, Object>) ((Map<String, Object>) book.get("workloadUnits")).get("kinds");
                wu.forEach((k, v) -> units.put(k, (BigDecimal) ((Map<String, Object>) v).get("perUnit")));
            } catch (IOException | Json.MalformedJsonException e) {
                throw new IllegalStateException("cannot read the price book", e);
            }
        }

        /** Credits per 1M tokens times tokens is micro-credits; rounded up once. */
        long ai(String model, long in, long out) {
            BigDecimal[] r = models.get(model);
            return r[0].multiply(BigDecimal.valueOf(in)).add(r[1].multiply(BigDecimal.valueOf(out)))
                    .setScale(0, RoundingMode.CEILING).longValueExact();
        }

        long units(String unit, long n) {
            return units.get(unit).multiply(BigDecimal.valueOf(n)).multiply(BigDecimal.valueOf(MICROS))
                    .setScale(0, RoundingMode.CEILING).longValueExact();
        }
    }

    // ------------------------------------------------------------------ the generator

    /** A generated run: steps of operations (each step runs concurrently), and each account's initial soft limit. */
    record Plan(List<List<Op>> steps, Map<String, Long> initialSoft) {
        int ops() { return steps.stream().mapToInt(List::size).sum(); }
    }

    static final int SLOTS = 5;
    static final int MAX_GROUP = 40;
    static final int MAX_PER_ACCOUNT_PER_STEP = 8;

    /**
     * Generates about {@code ops} operations from the seed alone (never from the service's answers), so one seed is one
     * sequence. {@value #SLOTS} account slots are live at a time; a closed account gets a few more operations (all refused), then
     * its slot gets a new account, which starts with a grant.
     */
    static Plan generate(long seed, int ops, Prices prices) {
        Random rnd = new Random(seed);
        List<List<Op>> steps = new ArrayList<>();
        Map<String, Long> initialSoft = new HashMap<>();
        Gen[] slots = new Gen[SLOTS];
        int[] counter = {0};
        for (int i = 0; i < SLOTS; i++) slots[i] = newAccount(rnd, counter, initialSoft);
        int made = 0;
        while (made < ops) {
            int size = 1 + rnd.nextInt(MAX_GROUP);
            List<Op> step = new ArrayList<>();
            Map<String, Integer> perAccount = new HashMap<>();
            for (int k = 0; k < size && made < ops; k++) {
                int s = rnd.nextInt(SLOTS);
                Gen g = slots[s];
                if (g.closed && g.afterClose >= 3) {
                    g = slots[s] = newAccount(rnd, counter, initialSoft);
                }
                if (perAccount.merge(g.name, 1, Integer::sum) > MAX_PER_ACCOUNT_PER_STEP) continue;
                step.add(g.next(rnd, prices));
                made++;
            }
            if (!step.isEmpty()) steps.add(step);
        }
        return new Plan(steps, initialSoft);
    }

    private static Gen newAccount(Random rnd, int[] counter, Map<String, Long> initialSoft) {
        String name = "a" + counter[0]++;
        initialSoft.put(name, (50 + rnd.nextInt(250)) * 10_000L); // 0.5 to 3 credits
        return new Gen(name);
    }

    /** What the generator knows of one account: only what it generated (ids to replay, payments to refund). */
    private static final class Gen {
        final String name;
        final List<Usage> usages = new ArrayList<>();
        final List<Grant> grants = new ArrayList<>();
        final List<Session> sessions = new ArrayList<>();
        final List<Session> undelivered = new ArrayList<>();
        final Map<String, List<String>> disputes = new HashMap<>();
        final Map<String, Long> disputeAmounts = new HashMap<>();
        boolean funded;
        boolean closed;
        int afterClose;
        int seq;

        Gen(String name) { this.name = name; }

        String id(String prefix) { return prefix + "-" + name + "-" + seq++; }

        Op next(Random rnd, Prices prices) {
            if (closed) afterClose++;
            if (!funded) {
                funded = true;
                Grant g = new Grant(name, id("g"), (100 + rnd.nextInt(300)) * 10_000L, "grant");
                grants.add(g);
                return g;
            }
            int w = rnd.nextInt(1000);
            if (w < 300) return usage(rnd, prices, true);
            if (w < 520) return usage(rnd, prices, false);
            if (w < 600 && !usages.isEmpty()) {
                Usage u = usages.get(rnd.nextInt(usages.size()));
                return new Usage(u.account(), u.eventId(), u.type(), u.model(), u.in(), u.out(), u.unit(), u.units(), u.cost(), "usage_replay");
            }
            if (w < 615 && !usages.isEmpty()) {
                Usage u = usages.get(rnd.nextInt(usages.size()));
                return u.type().equals("ai_tokens")
                        ? new Usage(u.account(), u.eventId(), u.type(), u.model(), u.in() + 1, u.out(), u.unit(), u.units(),
                                prices.ai(u.model(), u.in() + 1, u.out()), "usage_conflict")
                        : new Usage(u.account(), u.eventId(), u.type(), u.model(), 0, 0, u.unit(), u.units() + 1,
                                prices.units(u.unit(), u.units() + 1), "usage_conflict");
            }
            if (w < 680) {
                Grant g = new Grant(name, id("g"), (10 + rnd.nextInt(190)) * 10_000L, "grant");
                grants.add(g);
                return g;
            }
            if (w < 700 && !grants.isEmpty()) {
                Grant g = grants.get(rnd.nextInt(grants.size()));
                return new Grant(g.account(), g.grantId(), g.micros(), "grant_replay");
            }
            if (w < 760) {
                long hard = new long[]{0, 0, 250_000, 500_000, 1_000_000}[rnd.nextInt(5)];
                return new Limits(name, hard, hard + (25 + rnd.nextInt(275)) * 10_000L);
            }
            if (w < 810) return session(rnd);
            if (w < 860 && !sessions.isEmpty()) {
                Session s = sessions.get(rnd.nextInt(sessions.size()));
                // a redelivery, or the same session through its other event type
                return rnd.nextBoolean() ? s : new Session(s.account(), s.session(), s.pi(), s.credits(),
                        "checkout.session.async_payment_succeeded", true, "topup_duplicate");
            }
            if (w < 920) {
                Session s = anyPayment(rnd);
                long amount = s.amountMinor();
                long refunded = rnd.nextInt(3) == 0 ? amount : 1 + rnd.nextInt((int) amount);
                return new Refund(name, s.pi(), amount, refunded);
            }
            if (w < 955) {
                Session s = anyPayment(rnd);
                List<String> ds = disputes.computeIfAbsent(s.pi(), k -> new ArrayList<>());
                String d = ds.isEmpty() || rnd.nextInt(3) > 0 ? id("dp") : ds.get(rnd.nextInt(ds.size()));
                if (!ds.contains(d)) ds.add(d);
                // a dispute id seen again is a redelivery of the same event: the same amount. (Two amounts for one id
                // in one concurrent step left the model to guess which the service kept, before anything showed it.)
                long drawn = 1 + rnd.nextInt((int) s.amountMinor());
                return new Dispute(name, s.pi(), d, disputeAmounts.computeIfAbsent(d, k -> drawn));
            }
            if (w < 975) {
                Session s = anyPayment(rnd);
                return new DisputeClosed(name, s.pi(), id("dp"), s.amountMinor(), rnd.nextBoolean() ? "lost" : "won");
            }
            if (w < 990 && !closed) {
                closed = true;
                return new Close(name);
            }
            return usage(rnd, prices, rnd.nextBoolean());
        }

        private Usage usage(Random rnd, Prices prices, boolean ai) {
            Usage u;
            if (ai) {
                String model = new String[]{"gpt-4o", "gpt-4o-mini", "claude-3-5-haiku"}[rnd.nextInt(3)];
                long in = rnd.nextInt(200_001), out = rnd.nextInt(40_001);
                u = new Usage(name, id("e"), "ai_tokens", model, in, out, null, 0, prices.ai(model, in, out), "usage_ai");
            } else {
                boolean gpu = rnd.nextInt(4) == 0;
                long n = gpu ? 1 + rnd.nextInt(40) : 100 + rnd.nextInt(4_901);
                String unit = gpu ? "gpu" : "standard";
                u = new Usage(name, id("e"), "workload_units", null, 0, 0, unit, n, prices.units(unit, n), "usage_units");
            }
            usages.add(u);
            return u;
        }

        /** A new top-up (an earlier refund may have announced its payment intent), paid now or in two events. */
        private Session session(Random rnd) {
            Session s = !undelivered.isEmpty() && rnd.nextBoolean() ? undelivered.remove(0) : newSession(rnd);
            if (!sessions.contains(s)) sessions.add(s);
            if (rnd.nextInt(4) == 0) {
                // paid later (a bank debit): completed unpaid now; its async_payment_succeeded comes as a duplicate
                return new Session(s.account(), s.session(), s.pi(), s.credits(), "checkout.session.completed", false, "topup_unpaid");
            }
            return s;
        }

        private Session newSession(Random rnd) {
            String n = id("cs");
            return new Session(name, n, "pi-" + n, 5 + rnd.nextInt(4), "checkout.session.completed", true, "topup");
        }

        /** A payment to refund or dispute: usually one delivered, sometimes one whose session has not arrived yet. */
        private Session anyPayment(Random rnd) {
            if (sessions.isEmpty() || rnd.nextInt(5) == 0) {
                if (!undelivered.isEmpty() && rnd.nextBoolean()) return undelivered.get(0);
                Session s = newSession(rnd);
                undelivered.add(s);
                return s;
            }
            return sessions.get(rnd.nextInt(sessions.size()));
        }
    }
}
