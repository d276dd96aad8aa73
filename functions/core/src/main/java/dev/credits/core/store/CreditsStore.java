package dev.credits.core.store;

import dev.credits.core.domain.Account;
import dev.credits.core.domain.AccountId;
import dev.credits.core.domain.AccountStatus;
import dev.credits.core.domain.Alerts;
import dev.credits.core.domain.ChargeOutcome;
import dev.credits.core.domain.EntryType;
import dev.credits.core.domain.LedgerEntry;
import dev.credits.core.domain.Limits;
import dev.credits.core.domain.Outcomes;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.CancellationReason;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.GetItemResponse;
import software.amazon.awssdk.services.dynamodb.model.Put;
import software.amazon.awssdk.services.dynamodb.model.QueryRequest;
import software.amazon.awssdk.services.dynamodb.model.QueryResponse;
import software.amazon.awssdk.services.dynamodb.model.ReturnValue;
import software.amazon.awssdk.services.dynamodb.model.ReturnValuesOnConditionCheckFailure;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItemsRequest;
import software.amazon.awssdk.services.dynamodb.model.TransactionCanceledException;
import software.amazon.awssdk.services.dynamodb.model.Update;
import software.amazon.awssdk.services.dynamodb.model.UpdateItemRequest;

import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

import static dev.credits.core.store.Items.n;
import static dev.credits.core.store.Items.s;

/**
 * The DynamoDB adapter for accounts and the ledger.
 *
 * <p>Every balance change is one TransactWriteItems of two items: the account update, whose condition holds the
 * whole rule (active, and {@code spendable >= cost} for charges), and the ledger entry, put only if its key
 * (derived from the caller's idempotency key) is new. Nothing is read before it; when it is cancelled, the
 * cancellation reasons carry the old items (ALL_OLD), which say whether it was a replay, a conflict, a closed or
 * missing account, or the hard limit.
 */
public final class CreditsStore {
    private static final int MAX_ATTEMPTS = 4;
    /** The largest balance an account may hold: 10^12 credits, in micro-credits (a thousandth of a long's range). */
    public static final long MAX_BALANCE = 1_000_000_000_000_000_000L;
    private static final String CCF = "ConditionalCheckFailed";

    private final DynamoDbClient dynamo;
    private final StoreConfig config;
    private final String accounts;
    private final String ledger;
    private final Clock clock;

    public CreditsStore(DynamoDbClient dynamo, StoreConfig config, Clock clock) {
        this.dynamo = dynamo;
        this.config = config;
        this.accounts = config.accountsTable();
        this.ledger = config.ledgerTable();
        this.clock = clock;
    }

    public Clock clock() { return clock; }

    // ---------------------------------------------------------------- accounts

    /**
     * Creates the account. An active account with the same plan, limits and alert email is this create seen again
     * (the SDK's retry, or the caller's, after an answer was lost on the way back), not a conflict.
     */
    public Outcomes.Create create(Account account) {
        try {
            dynamo.putItem(b -> b.tableName(accounts).item(Items.newAccount(account))
                    .conditionExpression("attribute_not_exists(accountId)")
                    .returnValuesOnConditionCheckFailure(ReturnValuesOnConditionCheckFailure.ALL_OLD));
            return new Outcomes.Create.Created(account);
        } catch (ConditionalCheckFailedException e) {
            Account old = e.hasItem() ? Items.account(e.item()) : null;
            if (old != null && old.status() == AccountStatus.ACTIVE && old.hardLimit() == account.hardLimit()
                    && java.util.Objects.equals(old.softLimit(), account.softLimit()) && java.util.Objects.equals(old.plan(), account.plan())
                    && java.util.Objects.equals(old.alertEmail(), account.alertEmail())) {
                return new Outcomes.Create.AlreadyCreated(old);
            }
            return new Outcomes.Create.Exists(account.id());
        } catch (SdkException e) {
            throw unavailable(e);
        }
    }

    public java.util.Optional<Account> get(AccountId id) {
        try {
            GetItemResponse r = dynamo.getItem(b -> b.tableName(accounts).key(Items.accountKey(id)).consistentRead(true));
            return r.hasItem() && !r.item().isEmpty() ? java.util.Optional.of(Items.account(r.item())) : java.util.Optional.empty();
        } catch (SdkException e) {
            throw unavailable(e);
        }
    }

    // ---------------------------------------------------------------- balance changes

    /**
     * Posts a charge (negative amount, checked against the hard limit) or a credit (positive, not checked) with its
     * ledger entry, in one request. The entry's id is its idempotency key.
     */
    public ChargeOutcome post(LedgerEntry entry) {
        return post(entry, entry.amount() < 0 || entry.type().isUsage() ? Mode.CHARGE : Mode.CREDIT, List.of());
    }

    /** How a posting is conditioned. */
    public enum Mode {
        /** Usage: only on an active account, and only within the hard limit. */
        CHARGE,
        /** Credit added (grant, top-up, plan credits): only on an active account; ends a "usage stopped" episode. */
        CREDIT,
        /**
         * Clawback of paid credits (refund, dispute): applies even below the hard limit, but only to an active account:
         * a closed account's balance was forfeited, so taking the refunded credits again would charge them twice.
         */
        CLAWBACK
    }

    /**
     * Posts an entry with its balance change in one transaction, plus {@code extra} items (e.g. the Stripe payment
     * record), whose conditions must hold too.
     */
    public ChargeOutcome post(LedgerEntry entry, Mode mode, List<TransactWriteItem> extra) {
        return post(entry, mode, extra, true);
    }

    /**
     * @param readBack whether to read the account after a committed write, to report the balance after it (a second,
     *                 read-only request). Without it, a first charge is exactly one request.
     */
    public ChargeOutcome post(LedgerEntry entry, Mode mode, List<TransactWriteItem> extra, boolean readBack) {
        long delta = entry.amount();
        Map<String, AttributeValue> values = new HashMap<>();
        values.put(":d", n(delta));
        values.put(":now", s(entry.recordedAt().toString()));
        values.put(":one", n(1));
        String condition = "#st = :active";
        String rearm = "";
        switch (mode) {
            case CHARGE -> {
                values.put(":cost", n(-delta));
                condition += " AND spendable >= :cost";
            }
            case CREDIT -> {
                // credit added: a "usage stopped" episode is over, the next refusal alerts again
                rearm = ", stopAlert = :armed";
                values.put(":armed", s(Alerts.State.ARMED.wire()));
                // and no balance may grow past MAX_BALANCE (far inside a long, so no sum can overflow)
                condition += " AND balance <= :cap";
                values.put(":cap", n(MAX_BALANCE - delta));
            }
            case CLAWBACK -> { /* active only: the hard limit stops usage, not refunds */ }
        }
        values.put(":active", s(AccountStatus.ACTIVE.name()));
        Update accountUpdate = Update.builder()
                .tableName(accounts)
                .key(Items.accountKey(entry.accountId()))
                .updateExpression("SET balance = balance + :d, spendable = spendable + :d, updatedAt = :now, rev = rev + :one"
                        + rearm + " ADD softHeadroom :d")
                .conditionExpression(condition)
                .expressionAttributeNames(Map.of("#st", "status"))
                .expressionAttributeValues(values)
                .returnValuesOnConditionCheckFailure(ReturnValuesOnConditionCheckFailure.ALL_OLD)
                .build();
        Put entryPut = Put.builder()
                .tableName(ledger)
                .item(Items.entry(entry))
                .conditionExpression("attribute_not_exists(pk)")
                .returnValuesOnConditionCheckFailure(ReturnValuesOnConditionCheckFailure.ALL_OLD)
                .build();
        List<TransactWriteItem> items = new ArrayList<>();
        items.add(TransactWriteItem.builder().update(accountUpdate).build());
        items.add(TransactWriteItem.builder().put(entryPut).build());
        items.addAll(extra);
        TransactWriteItemsRequest.Builder request = TransactWriteItemsRequest.builder().transactItems(items);

        for (int attempt = 1; ; attempt++) {
            try {
                // a fresh token per attempt: the SDK's own retries of this request reuse it, so a retry of a write
                // that committed but timed out is answered as a success, not applied twice
                dynamo.transactWriteItems(request.clientRequestToken(UUID.randomUUID().toString()).build());
                return new ChargeOutcome.Charged(entry, readBack ? readAfter(entry.accountId()) : null);
            } catch (TransactionCanceledException e) {
                List<CancellationReason> reasons = e.cancellationReasons();
                CancellationReason onAccount = reasons.size() > 0 ? reasons.get(0) : null;
                CancellationReason onEntry = reasons.size() > 1 ? reasons.get(1) : null;
                if (onEntry != null && CCF.equals(onEntry.code())) {
                    LedgerEntry existing = Items.entry(onEntry.item());
                    if (existing.requestHash() != null && existing.requestHash().equals(entry.requestHash())) {
                        return new ChargeOutcome.Replayed(existing, readBack ? readAfter(entry.accountId()) : null);
                    }
                    return new ChargeOutcome.IdempotencyConflict(existing);
                }
                if (onAccount != null && CCF.equals(onAccount.code())) {
                    if (!onAccount.hasItem() || onAccount.item().isEmpty()) {
                        return new ChargeOutcome.AccountNotFound(entry.accountId());
                    }
                    Account old = Items.account(onAccount.item());
                    if (old.status() == AccountStatus.CLOSED) return new ChargeOutcome.AccountClosed(entry.accountId());
                    if (mode == Mode.CREDIT) return new ChargeOutcome.BalanceCapExceeded(delta, old);
                    if (mode != Mode.CHARGE) throw new IllegalStateException("an active account refused a " + mode);
                    Alerts.State stop = Alerts.State.fromWire(Items.str(onAccount.item(), "stopAlert"));
                    if (stop != Alerts.State.PENDING && stop != Alerts.State.SENT) markStopped(entry.accountId());
                    return new ChargeOutcome.HardLimitReached(-delta, old);
                }
                for (int i = 2; i < reasons.size(); i++) {
                    if (CCF.equals(reasons.get(i).code())) return new ChargeOutcome.ExtraConditionFailed(i - 2);
                }
                if (attempt >= MAX_ATTEMPTS) throw new StoreUnavailableException("transaction kept conflicting", e);
                backoff(attempt);
            } catch (SdkException e) {
                throw unavailable(e);
            }
        }
    }

    /**
     * Posts up to {@value #MAX_BATCH} usage charges of one account as ONE balance update: a transaction of the account
     * (its condition on the total) and each entry (put if new). Duplicates answer from their old entries and leave the
     * batch; if the total does not fit above the hard limit, the longest prefix that fits is charged and the rest
     * refused, all exactly, since each retry is again one conditional transaction. Results are in input order.
     */
    public List<ChargeOutcome> postBatch(AccountId account, List<LedgerEntry> entries) {
        if (entries.size() > MAX_BATCH) throw new IllegalArgumentException("at most " + MAX_BATCH + " entries");
        ChargeOutcome[] out = new ChargeOutcome[entries.size()];
        List<Integer> pending = new ArrayList<>();
        for (int i = 0; i < entries.size(); i++) pending.add(i);
        for (int attempt = 1; !pending.isEmpty(); attempt++) {
            long total = 0;
            for (int i : pending) total = Math.addExact(total, -entries.get(i).amount());
            Map<String, AttributeValue> values = new HashMap<>();
            values.put(":d", n(-total));
            values.put(":cost", n(total));
            values.put(":now", s(entries.get(pending.get(0)).recordedAt().toString()));
            values.put(":one", n(1));
            values.put(":active", s(AccountStatus.ACTIVE.name()));
            List<TransactWriteItem> items = new ArrayList<>();
            items.add(TransactWriteItem.builder().update(Update.builder().tableName(accounts).key(Items.accountKey(account))
                    .updateExpression("SET balance = balance + :d, spendable = spendable + :d, updatedAt = :now, rev = rev + :one ADD softHeadroom :d")
                    .conditionExpression("#st = :active AND spendable >= :cost")
                    .expressionAttributeNames(Map.of("#st", "status")).expressionAttributeValues(values)
                    .returnValuesOnConditionCheckFailure(ReturnValuesOnConditionCheckFailure.ALL_OLD).build()).build());
            for (int i : pending) {
                items.add(TransactWriteItem.builder().put(Put.builder().tableName(ledger).item(Items.entry(entries.get(i)))
                        .conditionExpression("attribute_not_exists(pk)")
                        .returnValuesOnConditionCheckFailure(ReturnValuesOnConditionCheckFailure.ALL_OLD).build()).build());
            }
            try {
                dynamo.transactWriteItems(b -> b.clientRequestToken(UUID.randomUUID().toString()).transactItems(items));
                Account after = readAfter(account);
                for (int i : pending) out[i] = new ChargeOutcome.Charged(entries.get(i), after);
                pending.clear();
            } catch (TransactionCanceledException e) {
                List<CancellationReason> reasons = e.cancellationReasons();
                List<Integer> duplicates = new ArrayList<>();
                for (int k = 0; k < pending.size() && k + 1 < reasons.size(); k++) {
                    CancellationReason r = reasons.get(k + 1);
                    if (!CCF.equals(r.code())) continue;
                    int i = pending.get(k);
                    LedgerEntry existing = Items.entry(r.item());
                    out[i] = existing.requestHash() != null && existing.requestHash().equals(entries.get(i).requestHash())
                            ? new ChargeOutcome.Replayed(existing, null) : new ChargeOutcome.IdempotencyConflict(existing);
                    duplicates.add(i);
                }
                if (!duplicates.isEmpty()) {
                    pending.removeAll(duplicates); // the account's condition may have failed only because of them
                    continue;
                }
                CancellationReason onAccount = reasons.isEmpty() ? null : reasons.get(0);
                if (onAccount != null && CCF.equals(onAccount.code())) {
                    if (!onAccount.hasItem() || onAccount.item().isEmpty()) {
                        for (int i : pending) out[i] = new ChargeOutcome.AccountNotFound(account);
                        break;
                    }
                    Account old = Items.account(onAccount.item());
                    if (old.status() == AccountStatus.CLOSED) {
                        for (int i : pending) out[i] = new ChargeOutcome.AccountClosed(account);
                        break;
                    }
                    // keep the longest prefix that fits the spendable amount seen; refuse the rest
                    long room = old.spendable();
                    List<Integer> fits = new ArrayList<>();
                    long sum = 0;
                    for (int i : pending) {
                        long cost = -entries.get(i).amount();
                        if (sum + cost <= room && fits.size() == pending.indexOf(i)) { fits.add(i); sum += cost; }
                        else out[i] = new ChargeOutcome.HardLimitReached(cost, old);
                    }
                    if (fits.size() < pending.size()) {
                        Alerts.State stop = Alerts.State.fromWire(Items.str(onAccount.item(), "stopAlert"));
                        if (stop != Alerts.State.PENDING && stop != Alerts.State.SENT) markStopped(account);
                    }
                    pending = fits;
                    continue;
                }
                if (attempt >= MAX_ATTEMPTS * 2) throw new StoreUnavailableException("batch kept conflicting", e);
                backoff(attempt);
            } catch (SdkException e) {
                throw unavailable(e);
            }
        }
        return List.of(out);
    }

    /** Entries in one batch: a transaction holds at most 100 items, one of them the account. */
    public static final int MAX_BATCH = 99;

    /**
     * Records the first refusal of a stop episode, for the "consumption stopped" alert. Only the first refused
     * event of an episode gets here (later ones see PENDING or SENT in the old image), so refusals stay write-free.
     */
    void markStopped(AccountId id) {
        try {
            dynamo.updateItem(b -> b.tableName(accounts).key(Items.accountKey(id))
                    .updateExpression("SET stopAlert = :pending, stopEpisode = if_not_exists(stopEpisode, :zero) + :one")
                    .conditionExpression("#st = :active AND (attribute_not_exists(stopAlert) OR stopAlert = :armed)")
                    .expressionAttributeNames(Map.of("#st", "status"))
                    .expressionAttributeValues(Map.of(":pending", s(Alerts.State.PENDING.wire()), ":armed",
                            s(Alerts.State.ARMED.wire()), ":zero", n(0), ":one", n(1),
                            ":active", s(AccountStatus.ACTIVE.name()))));
        } catch (ConditionalCheckFailedException raced) {
            // another refusal marked it first
        } catch (SdkException e) {
            // the refusal stands; the alert for it is lost only if this write is, and the next refusal retries it
        }
    }

    /** The account as read right after a write; null if that read fails (the write itself stands). */
    private Account readAfter(AccountId id) {
        try {
            return get(id).orElse(null);
        } catch (StoreUnavailableException e) {
            return null;
        }
    }

    // ---------------------------------------------------------------- limits and closing

    public Outcomes.SetLimits setLimits(AccountId id, Limits.LimitsChange change) {
        for (int attempt = 1; ; attempt++) {
            Account current = get(id).orElse(null);
            if (current == null) return new Outcomes.SetLimits.NotFound(id);
            if (current.status() == AccountStatus.CLOSED) return new Outcomes.SetLimits.Closed(id);
            Long hardBoxed = change.hardLimit().applyTo(current.hardLimit());
            long hard = hardBoxed == null ? 0L : hardBoxed;
            Long soft = change.softLimit().applyTo(current.softLimit());
            String email = change.alertEmail().applyTo(current.alertEmail());
            var problem = Limits.check(hard, soft);
            if (problem.isPresent()) return new Outcomes.SetLimits.Invalid(problem.get());

            Map<String, AttributeValue> v = new HashMap<>();
            v.put(":oldHard", n(current.hardLimit()));
            v.put(":hard", n(hard));
            v.put(":shift", n(current.hardLimit() - hard));
            v.put(":active", s(AccountStatus.ACTIVE.name()));
            v.put(":now", s(now().toString()));
            v.put(":one", n(1));
            StringBuilder set = new StringBuilder("SET hardLimit = :hard, spendable = spendable + :shift, updatedAt = :now, rev = rev + :one");
            List<String> remove = new ArrayList<>();
            if (soft != null) {
                // the headroom is computed by DynamoDB from the committed balance, so no charge can slip between; a
                // soft limit set or raised from at or below the balance to above it is a crossing (see Alerts)
                set.append(", softLimit = :soft, softHeadroom = balance - :soft");
                v.put(":soft", n(soft));
            } else {
                remove.add("softLimit");
                remove.add("softHeadroom");
            }
            if (email != null) { set.append(", alertEmail = :email"); v.put(":email", s(email)); } else remove.add("alertEmail");
            if (hard < current.hardLimit()) {
                // a lower floor frees credit: a "usage stopped" episode is over
                set.append(", stopAlert = :stopArmed");
                v.put(":stopArmed", s(Alerts.State.ARMED.wire()));
            }
            String cond = "#st = :active AND hardLimit = :oldHard";
            if (current.softLimit() != null) { cond += " AND softLimit = :oldSoft"; v.put(":oldSoft", n(current.softLimit())); }
            else cond += " AND attribute_not_exists(softLimit)";
            String expr = set + (remove.isEmpty() ? "" : " REMOVE " + String.join(", ", remove));
            try {
                var r = dynamo.updateItem(UpdateItemRequest.builder().tableName(accounts).key(Items.accountKey(id))
                        .updateExpression(expr).conditionExpression(cond)
                        .expressionAttributeNames(Map.of("#st", "status"))
                        .expressionAttributeValues(v).returnValues(ReturnValue.ALL_NEW).build());
                return new Outcomes.SetLimits.Updated(Items.account(r.attributes()));
            } catch (ConditionalCheckFailedException e) {
                // the limits or status changed between our read and write: read again
                if (attempt >= MAX_ATTEMPTS) throw new StoreUnavailableException("limits kept changing", e);
            } catch (SdkException e) {
                throw unavailable(e);
            }
        }
    }

    /** Closes the account: the balance is forfeited by one ledger entry, in the same transaction as the status. */
    public Outcomes.Close close(AccountId id) {
        HoldsStore holds = new HoldsStore(dynamo, config, clock);
        for (int attempt = 1; ; attempt++) {
            holds.releaseAll(id); // holds are given back first, so the forfeit is of the whole balance
            Account current = get(id).orElse(null);
            if (current == null) return new Outcomes.Close.NotFound(id);
            if (current.status() == AccountStatus.CLOSED) return new Outcomes.Close.AlreadyClosed(current);
            long forfeit = Math.max(current.balance(), 0);
            Instant now = now();
            LedgerEntry entry = new LedgerEntry(id, "forfeit", EntryType.FORFEIT, -forfeit, now, null, null, null,
                    null, null, null, null, Map.of(), null, "account closed: unused balance forfeited", null);
            Map<String, AttributeValue> v = new HashMap<>();
            v.put(":f", n(forfeit));
            v.put(":negf", n(-forfeit));
            v.put(":zero", n(0));
            v.put(":b", n(current.balance()));
            v.put(":active", s(AccountStatus.ACTIVE.name()));
            v.put(":closed", s(AccountStatus.CLOSED.name()));
            v.put(":now", s(now.toString()));
            v.put(":one", n(1));
            Update u = Update.builder().tableName(accounts).key(Items.accountKey(id))
                    .updateExpression("SET #st = :closed, balance = balance - :f, spendable = spendable - :f, "
                            + "closedAt = :now, updatedAt = :now, rev = rev + :one ADD softHeadroom :negf")
                    .conditionExpression("#st = :active AND balance = :b AND held = :zero")
                    .expressionAttributeNames(Map.of("#st", "status"))
                    .expressionAttributeValues(v).build();
            Put p = Put.builder().tableName(ledger).item(Items.entry(entry))
                    .conditionExpression("attribute_not_exists(pk)").build();
            try {
                dynamo.transactWriteItems(b -> b.clientRequestToken(UUID.randomUUID().toString()).transactItems(
                        TransactWriteItem.builder().update(u).build(), TransactWriteItem.builder().put(p).build()));
                Account after = get(id).orElseThrow();
                return new Outcomes.Close.Closed(after, entry);
            } catch (TransactionCanceledException e) {
                // balance moved (a charge raced us) or someone else closed it: read again and decide again
                if (attempt >= MAX_ATTEMPTS) throw new StoreUnavailableException("close kept conflicting", e);
                backoff(attempt);
            } catch (SdkException e) {
                throw unavailable(e);
            }
        }
    }

    // ---------------------------------------------------------------- history

    /**
     * Usage History, newest first: per ledger shard, a key-range Query of the history index (entries that are not
     * usage) and one of the usage rows (usage entries, once the aggregator has counted them), all merged by time.
     * A type filter that names only usage, or none of it, reads only the side it needs.
     *
     * @param fromInclusive lower bound on recorded time, or null
     * @param toExclusive   upper bound on recorded time, or null
     * @param before        continue after this position (exclusive), or null for the first page
     */
    public Outcomes.HistoryPage history(AccountId id, Instant fromInclusive, Instant toExclusive, Set<EntryType> types,
                                        int limit, String before) {
        String lo = fromInclusive == null ? "0" : Keys.time(fromInclusive);
        String hi = toExclusive == null ? "9" : Keys.time(toExclusive);
        if (before != null && before.compareTo(hi) < 0) hi = before;
        if (lo.compareTo(hi) > 0) return new Outcomes.HistoryPage(List.of(), null); // nothing can lie in an empty range
        boolean all = types == null || types.isEmpty();
        boolean usage = all || types.stream().anyMatch(EntryType::isUsage);
        boolean other = all || types.stream().anyMatch(t -> !t.isUsage());
        int sources = (usage ? Keys.SHARDS : 0) + (other ? Keys.SHARDS : 0);
        // a lazy merge, newest first: each source is read in small chunks, and read further only when its next item
        // could still belong on the page (about limit + sources x chunk items read, not sources x (limit + 1)); the
        // chunk is sized for one side's shards, as usage and the rest are seldom both busy
        int chunk = Math.max(2, limit / Keys.SHARDS + 2);
        Map<String, AttributeValue> v = new HashMap<>();
        v.put(":lo", s(lo));
        v.put(":hi", s(hi));
        Map<String, String> names = new HashMap<>();
        String filter = null;
        if (!all) {
            List<String> ph = new ArrayList<>();
            int i = 0;
            for (EntryType t : types) { String k = ":t" + i++; ph.add(k); v.put(k, s(t.wire())); }
            filter = "#type IN (" + String.join(", ", ph) + ")";
            names.put("#type", "type");
        }
        List<ShardCursor> cursors = new ArrayList<>(sources);
        for (int shard = 0; shard < Keys.SHARDS; shard++) {
            if (other) {
                Map<String, AttributeValue> values = new HashMap<>(v);
                values.put(":pk", s(Keys.shardPk(id, shard)));
                Map<String, String> n = new HashMap<>(names);
                n.put("#ts", "ts");
                QueryRequest.Builder q = QueryRequest.builder().tableName(ledger).indexName(Keys.HISTORY_INDEX)
                        .keyConditionExpression("pk = :pk AND #ts BETWEEN :lo AND :hi")
                        .expressionAttributeNames(n).expressionAttributeValues(values)
                        .scanIndexForward(false).limit(chunk);
                if (filter != null) q.filterExpression(filter);
                cursors.add(new ShardCursor(q.build(), before));
            }
            if (usage) {
                Map<String, AttributeValue> values = new HashMap<>(v);
                values.put(":pk", s(Keys.usageShardPk(id, shard)));
                QueryRequest.Builder q = QueryRequest.builder().tableName(ledger)
                        .keyConditionExpression("pk = :pk AND sk BETWEEN :lo AND :hi")
                        .expressionAttributeValues(values)
                        .scanIndexForward(false).limit(chunk);
                if (!names.isEmpty()) q.expressionAttributeNames(names);
                if (filter != null) q.filterExpression(filter);
                cursors.add(new ShardCursor(q.build(), before));
            }
        }
        fillAll(cursors); // the first read of every source, side by side; refills are few and follow the merge
        List<Map<String, AttributeValue>> merged = new ArrayList<>(limit + 1);
        String last = null;
        while (merged.size() <= limit) {
            ShardCursor newest = null;
            for (ShardCursor c : cursors) {
                if (c.buffer.isEmpty() && !c.exhausted) c.fill();
                // a position names one entry: a usage entry written before usage rows carries ts too, and if the
                // aggregator counted it after the change it also has a row at the same position. List it once.
                while (last != null && !c.buffer.isEmpty() && c.head().equals(last)) {
                    c.buffer.pollFirst();
                    if (c.buffer.isEmpty() && !c.exhausted) c.fill();
                }
                if (c.buffer.isEmpty()) continue;
                if (newest == null || c.head().compareTo(newest.head()) > 0) newest = c;
            }
            if (newest == null) break;
            last = newest.head();
            merged.add(newest.buffer.pollFirst());
        }
        boolean more = merged.size() > limit;
        List<LedgerEntry> page = new ArrayList<>(Math.min(limit, merged.size()));
        for (int i = 0; i < Math.min(limit, merged.size()); i++) page.add(Items.entry(merged.get(i)));
        String next = more ? position(merged.get(limit - 1)) : null;
        return new Outcomes.HistoryPage(page, next);
    }

    /** How many of a History page's first reads run at once (the sources are 16 or 32 Queries). */
    public static final int PARALLEL_READS = 16;
    private static volatile java.util.concurrent.ExecutorService readers;

    private static java.util.concurrent.ExecutorService readers() {
        if (readers == null) {
            synchronized (CreditsStore.class) {
                if (readers == null) {
                    java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();
                    readers = java.util.concurrent.Executors.newFixedThreadPool(PARALLEL_READS, r -> {
                        Thread t = new Thread(r, "history-read-" + n.incrementAndGet());
                        t.setDaemon(true);
                        return t;
                    });
                }
            }
        }
        return readers;
    }

    /** Runs each source's first read on the reader pool, under this request's deadline; the first failure is thrown. */
    private static void fillAll(List<ShardCursor> cursors) {
        List<java.util.concurrent.Future<?>> started = new ArrayList<>(cursors.size());
        for (ShardCursor c : cursors) started.add(readers().submit(Deadline.carried(c::fill)));
        try {
            for (java.util.concurrent.Future<?> f : started) f.get();
        } catch (java.util.concurrent.ExecutionException e) {
            for (java.util.concurrent.Future<?> f : started) f.cancel(true);
            if (e.getCause() instanceof RuntimeException re) throw re;
            throw new StoreUnavailableException("a History read failed", e.getCause());
        } catch (InterruptedException e) {
            for (java.util.concurrent.Future<?> f : started) f.cancel(true);
            Thread.currentThread().interrupt();
            throw new StoreUnavailableException("interrupted", e);
        }
    }

    /**
     * An item's place in History, "time#entry sk": an index item's {@code ts}, a usage row's {@code sk} (rows never
     * carry {@code ts}). Both sources of a page order by it, and the cursor is the last one returned.
     */
    private static String position(Map<String, AttributeValue> item) {
        AttributeValue ts = item.get("ts");
        return ts != null ? ts.s() : item.get("sk").s();
    }

    /**
     * One source of a History page (a shard of the index, or of the usage rows): its Query, what was read and not yet
     * merged, and where the Query goes on.
     */
    private final class ShardCursor {
        final QueryRequest query;
        final String before;
        final java.util.ArrayDeque<Map<String, AttributeValue>> buffer = new java.util.ArrayDeque<>();
        Map<String, AttributeValue> startKey;
        boolean exhausted;

        ShardCursor(QueryRequest query, String before) {
            this.query = query;
            this.before = before;
        }

        String head() {
            return position(buffer.peekFirst());
        }

        /** Reads the source's next items, newest first, until some match or it ends. */
        void fill() {
            try {
                while (buffer.isEmpty() && !exhausted) {
                    QueryResponse r = dynamo.query(startKey == null ? query : query.toBuilder().exclusiveStartKey(startKey).build());
                    for (Map<String, AttributeValue> item : r.items()) {
                        if (before != null && position(item).equals(before)) continue; // the cursor is exclusive
                        buffer.addLast(item);
                    }
                    startKey = r.hasLastEvaluatedKey() && !r.lastEvaluatedKey().isEmpty() ? r.lastEvaluatedKey() : null;
                    exhausted = startKey == null;
                }
            } catch (SdkException e) {
                throw unavailable(e);
            }
        }
    }

    // ---------------------------------------------------------------- daily totals

    /** Daily totals over [from, to] (UTC days, both inclusive), one Query of at most 366 small items. */
    public Map<LocalDate, Outcomes.DayTotals> dailyTotals(AccountId id, LocalDate from, LocalDate to) {
        Map<LocalDate, Outcomes.DayTotals> out = new HashMap<>();
        Map<String, AttributeValue> startKey = null;
        try {
            do {
                QueryRequest.Builder q = QueryRequest.builder().tableName(ledger).consistentRead(true)
                        .keyConditionExpression("pk = :pk AND sk BETWEEN :from AND :to")
                        .expressionAttributeValues(Map.of(":pk", s(Keys.dayPk(id)), ":from", s(from.toString()),
                                ":to", s(to.toString())));
                if (startKey != null) q.exclusiveStartKey(startKey);
                QueryResponse r = dynamo.query(q.build());
                for (Map<String, AttributeValue> m : r.items()) {
                    LocalDate day = LocalDate.parse(m.get("sk").s());
                    out.put(day, new Outcomes.DayTotals(day, num(m, "aiCredits"), num(m, "aiInputTokens"),
                            num(m, "aiOutputTokens"), num(m, "aiEvents"), num(m, "wuCredits"), num(m, "wuUnits"),
                            num(m, "wuEvents")));
                }
                startKey = r.hasLastEvaluatedKey() && !r.lastEvaluatedKey().isEmpty() ? r.lastEvaluatedKey() : null;
            } while (startKey != null);
        } catch (SdkException e) {
            throw unavailable(e);
        }
        return out;
    }

    /** Adds one usage entry to its day's totals, exactly once. @return false when it had already been counted */
    public boolean aggregate(LedgerEntry e) {
        return aggregate(List.of(e)) == 1;
    }

    /**
     * Adds usage entries to their days' totals and to History, exactly once each: per (account, day), one transaction
     * puts the History row of each of up to 98 entries (each only if absent; streams deliver at least once) and adds
     * their sums to the day's item, so a hot account's day item takes one update per batch, not one per event, and a
     * usage entry is in History exactly when it is in the Overview.
     *
     * @return how many entries were newly counted
     */
    public int aggregate(List<LedgerEntry> entries) {
        Map<String, List<LedgerEntry>> groups = new java.util.LinkedHashMap<>();
        for (LedgerEntry e : entries) {
            if (e.type().isUsage()) groups.computeIfAbsent(e.accountId().value() + "|" + Keys.day(e.recordedAt()), k -> new ArrayList<>()).add(e);
        }
        int applied = 0;
        for (List<LedgerEntry> group : groups.values()) {
            for (int from = 0; from < group.size(); from += 98) {
                applied += aggregateChunk(new ArrayList<>(group.subList(from, Math.min(group.size(), from + 98))));
            }
        }
        return applied;
    }

    private int aggregateChunk(List<LedgerEntry> chunk) {
        for (int attempt = 1; !chunk.isEmpty(); attempt++) {
            long aiC = 0, aiIn = 0, aiOut = 0, aiN = 0, wuC = 0, wuU = 0, wuN = 0;
            for (LedgerEntry e : chunk) {
                boolean ai = e.type() == EntryType.AI_TOKENS || (e.type() == EntryType.CAPTURE && e.model() != null);
                if (ai) {
                    aiC += e.charged(); aiN++;
                    aiIn += e.inputTokens() == null ? 0 : e.inputTokens();
                    aiOut += e.outputTokens() == null ? 0 : e.outputTokens();
                } else {
                    wuC += e.charged(); wuN++;
                    wuU += e.units() == null ? 0 : e.units();
                }
            }
            LedgerEntry first = chunk.get(0);
            Map<String, AttributeValue> v = new HashMap<>();
            v.put(":day", s("day"));
            v.put(":acct", s(first.accountId().value()));
            v.put(":aiC", n(aiC)); v.put(":aiIn", n(aiIn)); v.put(":aiOut", n(aiOut)); v.put(":aiN", n(aiN));
            v.put(":wuC", n(wuC)); v.put(":wuU", n(wuU)); v.put(":wuN", n(wuN));
            List<TransactWriteItem> items = new ArrayList<>();
            items.add(TransactWriteItem.builder().update(Update.builder().tableName(ledger)
                    .key(Map.of("pk", s(Keys.dayPk(first.accountId())), "sk", s(Keys.day(first.recordedAt()))))
                    .updateExpression("SET kind = :day, account = :acct ADD aiCredits :aiC, aiInputTokens :aiIn, "
                            + "aiOutputTokens :aiOut, aiEvents :aiN, wuCredits :wuC, wuUnits :wuU, wuEvents :wuN")
                    .expressionAttributeValues(v).build()).build());
            for (LedgerEntry e : chunk) {
                // the entry's History row doubles as its "counted" record: present means counted
                items.add(TransactWriteItem.builder().put(Put.builder().tableName(ledger).item(Items.usageRow(e))
                        .conditionExpression("attribute_not_exists(pk)").build()).build());
            }
            try {
                dynamo.transactWriteItems(b -> b.clientRequestToken(UUID.randomUUID().toString()).transactItems(items));
                return chunk.size();
            } catch (TransactionCanceledException ex) {
                var reasons = ex.cancellationReasons();
                List<LedgerEntry> counted = new ArrayList<>();
                for (int k = 0; k < chunk.size() && k + 1 < reasons.size(); k++) {
                    if (CCF.equals(reasons.get(k + 1).code())) counted.add(chunk.get(k));
                }
                if (!counted.isEmpty()) {
                    chunk.removeAll(counted); // already in the totals (a redelivery): count the others only
                    continue;
                }
                if (attempt >= MAX_ATTEMPTS * 2) throw new StoreUnavailableException("aggregation kept conflicting", ex);
                backoff(attempt);
            } catch (SdkException ex) {
                throw unavailable(ex);
            }
        }
        return 0;
    }

    // ---------------------------------------------------------------- helpers

    private static long num(Map<String, AttributeValue> m, String k) {
        AttributeValue v = m.get(k);
        return v == null || v.n() == null ? 0 : Long.parseLong(v.n());
    }

    private static StoreUnavailableException unavailable(SdkException e) {
        return new StoreUnavailableException("DynamoDB did not answer: " + e.getClass().getSimpleName(), e);
    }

    private static void backoff(int attempt) {
        try {
            Thread.sleep(ThreadLocalRandom.current().nextLong(5, 20L << attempt));
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            throw new StoreUnavailableException("interrupted", ie);
        }
    }

    /** Now, from the injected clock, to the millisecond (the precision the ledger keeps). */
    public Instant now() {
        return clock.instant().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
    }
}
