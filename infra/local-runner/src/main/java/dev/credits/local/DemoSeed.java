package dev.credits.local;

import dev.credits.core.domain.Account;
import dev.credits.core.domain.AccountId;
import dev.credits.core.domain.AccountStatus;
import dev.credits.core.domain.EntryType;
import dev.credits.core.domain.LedgerEntry;
import dev.credits.core.domain.Limits;
import dev.credits.core.domain.Change;
import dev.credits.core.domain.UsageEvent;
import dev.credits.core.money.Credits;
import dev.credits.core.pricing.PriceBook;
import dev.credits.core.pricing.PriceBookLoader;
import dev.credits.core.store.CreditsStore;
import dev.credits.core.store.PaymentsStore;
import dev.credits.core.store.StoreConfig;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.Random;

/**
 * {@code DEMO=1 make run}: an account "demo" with six weeks of varied usage (AI models and workload units),
 * top-ups through the same Stripe path as real ones, a grant, a soft-limit crossing and a hard-limit stop, so the
 * Usage Overview and History have something to show on a first run. Seeded, so it is the same every time.
 */
final class DemoSeed {
    static final String ACCOUNT = "demo";

    /** A clock the seeder moves through the six weeks. */
    private static final class MovableClock extends Clock {
        private Instant now;
        MovableClock(Instant start) { this.now = start; }
        void set(Instant t) { now = t; }
        @Override public ZoneId getZone() { return ZoneOffset.UTC; }
        @Override public Clock withZone(ZoneId zone) { return this; }
        @Override public Instant instant() { return now; }
    }

    static void seed(DynamoDbClient dynamo, StoreConfig config) {
        Instant today = Instant.now().truncatedTo(ChronoUnit.DAYS);
        Instant start = today.minus(Duration.ofDays(42));
        MovableClock clock = new MovableClock(start.plus(Duration.ofHours(9)));
        CreditsStore store = new CreditsStore(dynamo, config, clock);
        PaymentsStore payments = new PaymentsStore(dynamo, config, clock);
        PriceBook prices = PriceBookLoader.fromClasspath();
        AccountId id = new AccountId(ACCOUNT);
        if (store.get(id).isPresent()) return; // seeded already (an external DynamoDB endpoint kept from an earlier run)
        store.create(new Account(id, AccountStatus.ACTIVE, 0, 0, 0, null, null, "pro", clock.instant(), clock.instant(), null));
        store.post(new LedgerEntry(id, "grant#welcome", EntryType.GRANT, Credits.toMicrosUnchecked(20), clock.instant(), null,
                "welcome", null, null, null, null, null, Map.of(), null, "welcome credits", "grant|welcome"));
        store.setLimits(id, new Limits.LimitsChange(new Change.To<>(Credits.toMicrosUnchecked(15)), new Change.Keep<>(),
                new Change.To<>("owner@demo.example")));
        topUp(payments, clock, id, 1, 60);
        Random random = new Random(42);
        String[] models = {"gpt-4o-mini", "gpt-4o", "claude-3-5-haiku", "claude-sonnet-4", "llama-3.1-8b"};
        int event = 0;
        for (int day = 0; day < 42; day++) {
            Instant dayStart = start.plus(Duration.ofDays(day));
            int calls = 8 + random.nextInt(12) + (day % 7 < 5 ? 10 : 0);
            for (int i = 0; i < calls; i++) {
                clock.set(dayStart.plus(Duration.ofMinutes(8 * 60 + random.nextInt(11 * 60))));
                UsageEvent e = random.nextInt(3) == 0
                        ? new UsageEvent.WorkloadUnits("demo-" + (event++), random.nextInt(5) == 0 ? "gpu" : "standard", 50 + random.nextInt(400), null)
                        : new UsageEvent.AiTokens("demo-" + (event++), models[random.nextInt(models.length)],
                        500 + random.nextInt(60_000), 100 + random.nextInt(20_000), null);
                if (prices.price(e) instanceof PriceBook.Quote.Priced p) store.post(entry(id, e, p, clock.instant(), prices));
            }
            if (day == 14 || day == 29) topUp(payments, clock, id, day, day == 14 ? 150 : 60);
        }
    }

    private static void topUp(PaymentsStore payments, MovableClock clock, AccountId id, int n, long credits) {
        clock.set(clock.instant().plus(Duration.ofMinutes(5)));
        payments.creditTopUp(new PaymentsStore.TopUp(id, "cs_demo_" + n, "pi_demo_" + n, credits * Credits.MICROS_PER_CREDIT,
                credits * 100, "usd", "evt_demo_" + n));
    }

    private static LedgerEntry entry(AccountId id, UsageEvent e, PriceBook.Quote.Priced p, Instant at, PriceBook prices) {
        return switch (e) {
            case UsageEvent.AiTokens ai -> new LedgerEntry(id, "usage#" + ai.eventId(), ai.type(), -p.costMicros(), at, at,
                    ai.eventId(), ai.model(), ai.inputTokens(), ai.outputTokens(), null, null, p.rates(), p.priceBookVersion(), null,
                    ai.requestHash());
            case UsageEvent.WorkloadUnits wu -> new LedgerEntry(id, "usage#" + wu.eventId(), wu.type(), -p.costMicros(), at, at,
                    wu.eventId(), null, null, null, prices.unitKindOf(wu), wu.units(), p.rates(), p.priceBookVersion(), null,
                    wu.requestHash());
        };
    }
}
