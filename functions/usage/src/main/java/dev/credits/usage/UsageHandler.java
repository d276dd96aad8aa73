package dev.credits.usage;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import dev.credits.core.domain.Account;
import dev.credits.core.domain.AccountId;
import dev.credits.core.domain.ChargeOutcome;
import dev.credits.core.domain.EventId;
import dev.credits.core.domain.LedgerEntry;
import dev.credits.core.domain.UsageEvent;
import dev.credits.core.http.ApiException;
import dev.credits.core.http.Caller;
import dev.credits.core.http.Fields;
import dev.credits.core.http.HttpFunction;
import dev.credits.core.http.Request;
import dev.credits.core.http.Response;
import dev.credits.core.http.Views;
import dev.credits.core.money.Credits;
import dev.credits.core.pricing.PriceBook;
import dev.credits.core.pricing.PriceBookLoader;
import dev.credits.core.snap.Priming;
import dev.credits.core.store.Clients;
import dev.credits.core.store.CreditsStore;
import dev.credits.core.store.StoreConfig;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * {@code POST /v1/accounts/{id}/usage}: prices one event and charges it with its ledger entry in one DynamoDB
 * request. The hot path of every app request: this package carries no Stripe and no SNS code.
 */
public final class UsageHandler extends HttpFunction {
    static final int MAX_BODY_BYTES = 8 * 1024;
    private static final Set<String> AI_FIELDS = Set.of("eventId", "type", "model", "inputTokens", "outputTokens", "occurredAt");
    private static final Set<String> WU_FIELDS = Set.of("eventId", "type", "units", "unit", "occurredAt");

    private final CreditsStore store;
    private final PriceBook prices;
    private final Clock clock;

    /** Lambda's entry: configuration from the environment, real clients. */
    public UsageHandler() {
        this(System.getenv());
    }

    public UsageHandler(Map<String, String> env) {
        this(StoreConfig.fromEnv(env), Clock.systemUTC());
        Priming.register("usage", this::prime);
    }

    static final String PRIMING_ACCOUNT = "snapstart-priming-not-an-account";

    /**
     * SnapStart priming: the hot path without its write. Parses and prices both event kinds, builds the ledger item,
     * answers a request without claims (401) through the whole shell, and reads an account that does not exist.
     */
    public void prime() {
        for (String body : new String[]{
                "{\"eventId\":\"prime-1\",\"type\":\"ai_tokens\",\"model\":\"gpt-4o-mini\",\"inputTokens\":1200,\"outputTokens\":350,\"occurredAt\":\"2026-11-24T10:00:00Z\"}",
                "{\"eventId\":\"prime-2\",\"type\":\"workload_units\",\"units\":3}"}) {
            try {
                UsageEvent e = parse(dev.credits.core.json.Json.parseObject(body));
                if (prices.price(e) instanceof PriceBook.Quote.Priced p) {
                    LedgerEntry entry = new LedgerEntry(new AccountId(PRIMING_ACCOUNT), "usage#" + e.eventId(), e.type(),
                            -p.costMicros(), clock.instant(), e.occurredAt(), e.eventId(), null, null, null, null, null,
                            p.rates(), p.priceBookVersion(), null, e.requestHash());
                    dev.credits.core.store.Items.entry(entry);
                    Response.json(201, result(entry, null, false));
                }
            } catch (dev.credits.core.json.Json.MalformedJsonException ex) {
                throw new IllegalStateException(ex);
            }
        }
        handleRequest(com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent.builder()
                .withRouteKey("POST /v1/accounts/{id}/usage").withPathParameters(Map.of("id", PRIMING_ACCOUNT))
                .withHeaders(Map.of("content-type", "application/json")).withBody("{}").build(), null);
        store.get(new AccountId(PRIMING_ACCOUNT));
    }

    private UsageHandler(StoreConfig config, Clock clock) {
        this(Clients.dynamo(config), config, PriceBookLoader.fromClasspath(), clock);
    }

    /** For tests: explicit client, price book and clock. */
    public UsageHandler(DynamoDbClient dynamo, StoreConfig config, PriceBook prices, Clock clock) {
        this.store = new CreditsStore(dynamo, config, clock);
        this.prices = prices;
        this.clock = clock;
    }

    static final int MAX_BATCH_BODY_BYTES = 128 * 1024;

    @Override
    protected APIGatewayV2HTTPResponse route(Request request) {
        if (request.routeKey().equals("POST /v1/accounts/{id}/usage/batch")) return batch(request);
        if (!request.routeKey().equals("POST /v1/accounts/{id}/usage")) throw noRoute(request);
        String accountId = request.accountId();
        request.caller().require(accountId, Caller.Role.METERING, Caller.Role.ADMIN);
        UsageEvent event = parse(request.jsonBody(MAX_BODY_BYTES));
        if (event instanceof UsageEvent.WorkloadUnits wu && wu.unitKind() == null) {
            // the default kind, named: "units": 3 and "units": 3, "unit": "standard" are the same event
            event = new UsageEvent.WorkloadUnits(wu.eventId(), prices.unitKindOf(wu), wu.units(), wu.occurredAt());
        }
        // Prefer: return=minimal (RFC 7240): the caller does not need the balance, so the charge is one request
        String prefer = request.header("prefer");
        boolean minimal = prefer != null && prefer.toLowerCase(java.util.Locale.ROOT).contains("return=minimal");
        return record(new AccountId(accountId), event, !minimal);
    }

    /**
     * {@code POST /v1/accounts/{id}/usage/batch}: up to 99 events in one balance update, for hot accounts. Each event
     * has its own result (201 charged, 200 replayed, 409 conflict, 402 refused, 400 invalid), in input order; the
     * hard limit is exact: the longest prefix that fits is charged.
     */
    private APIGatewayV2HTTPResponse batch(Request request) {
        String accountId = request.accountId();
        request.caller().require(accountId, Caller.Role.METERING, Caller.Role.ADMIN);
        Map<String, Object> body = request.jsonBody(MAX_BATCH_BODY_BYTES);
        new Fields(body).only(java.util.Set.of("events"));
        Object raw = body.get("events");
        if (!(raw instanceof java.util.List<?> list) || list.isEmpty() || list.size() > dev.credits.core.store.CreditsStore.MAX_BATCH) {
            throw ApiException.invalid("events", "must be a list of 1 to " + dev.credits.core.store.CreditsStore.MAX_BATCH + " usage events");
        }
        AccountId account = new AccountId(accountId);
        Instant now = clock.instant().truncatedTo(ChronoUnit.MILLIS);
        java.util.List<Map<String, Object>> results = new java.util.ArrayList<>();
        java.util.List<LedgerEntry> toPost = new java.util.ArrayList<>();
        java.util.List<Integer> slot = new java.util.ArrayList<>();
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (int i = 0; i < list.size(); i++) {
            Map<String, Object> r = new LinkedHashMap<>();
            results.add(r);
            try {
                if (!(list.get(i) instanceof Map<?, ?> m)) throw ApiException.invalidBody("each event must be a JSON object");
                @SuppressWarnings("unchecked") UsageEvent e = parse((Map<String, Object>) m);
                if (e instanceof UsageEvent.WorkloadUnits wu && wu.unitKind() == null) {
                    e = new UsageEvent.WorkloadUnits(wu.eventId(), prices.unitKindOf(wu), wu.units(), wu.occurredAt());
                }
                r.put("eventId", e.eventId());
                if (!seen.add(e.eventId())) throw new ApiException(409, "idempotency_conflict", "eventId appears twice in this batch.", Map.of("field", "eventId"), null);
                toPost.add(entryFor(account, e, quote(e), now));
                slot.add(i);
            } catch (ApiException ex) {
                r.put("status", ex.status());
                Map<String, Object> err = new LinkedHashMap<>();
                err.put("code", ex.code());
                err.put("message", ex.getMessage());
                err.putAll(ex.details());
                r.put("error", err);
            }
        }
        long charged = 0;
        Account last = null;
        if (!toPost.isEmpty()) {
            java.util.List<ChargeOutcome> outcomes = store.postBatch(account, toPost);
            for (int k = 0; k < outcomes.size(); k++) {
                Map<String, Object> r = results.get(slot.get(k));
                switch (outcomes.get(k)) {
                    case ChargeOutcome.Charged c -> { r.put("status", 201); r.putAll(Views.entry(c.entry())); charged += c.entry().charged(); last = c.after(); }
                    case ChargeOutcome.Replayed rp -> { r.put("status", 200); r.put("replayed", true); r.putAll(Views.entry(rp.entry())); }
                    case ChargeOutcome.IdempotencyConflict c -> { r.put("status", 409); r.put("error", Map.of("code", "idempotency_conflict",
                            "message", "eventId was already recorded with a different body.")); }
                    case ChargeOutcome.HardLimitReached h -> { r.put("status", 402); r.put("error", Map.of("code", "hard_limit_reached",
                            "message", "Charging " + Credits.format(h.cost()) + " credits would take the balance below the hard limit.")); }
                    case ChargeOutcome.AccountClosed c -> throw ApiException.closed(accountId);
                    case ChargeOutcome.AccountNotFound n -> throw ApiException.notFound(accountId);
                    case ChargeOutcome.ExtraConditionFailed x -> throw new IllegalStateException("no extra items were posted");
                    case ChargeOutcome.BalanceCapExceeded x -> throw new IllegalStateException("a charge never raises the balance");
                }
            }
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("accountId", accountId);
        out.put("charged", Credits.toCredits(charged));
        if (last != null) {
            out.put("balance", Credits.toCredits(last.balance()));
            out.put("available", Credits.toCredits(last.available()));
        }
        out.put("results", results);
        return Response.json(200, out);
    }

    private PriceBook.Quote.Priced quote(UsageEvent event) {
        return switch (prices.price(event)) {
            case PriceBook.Quote.Priced p -> p;
            case PriceBook.Quote.UnknownModel m -> throw new ApiException(400, "unknown_model",
                    "Model '" + m.model() + "' is not in price book " + prices.version() + ".", Map.of("field", "model"), null);
            case PriceBook.Quote.UnknownUnit u -> throw new ApiException(400, "unknown_unit",
                    "Unit kind '" + u.unitKind() + "' is not in price book " + prices.version() + ".", Map.of("field", "unit"), null);
            case PriceBook.Quote.TooLarge t -> throw ApiException.invalidBody("The cost of this event is too large to record.");
        };
    }

    private LedgerEntry entryFor(AccountId account, UsageEvent event, PriceBook.Quote.Priced priced, Instant now) {
        return switch (event) {
            case UsageEvent.AiTokens ai -> new LedgerEntry(account, "usage#" + ai.eventId(), ai.type(), -priced.costMicros(),
                    now, ai.occurredAt(), ai.eventId(), ai.model(), ai.inputTokens(), ai.outputTokens(), null, null,
                    priced.rates(), priced.priceBookVersion(), null, ai.requestHash());
            case UsageEvent.WorkloadUnits wu -> new LedgerEntry(account, "usage#" + wu.eventId(), wu.type(), -priced.costMicros(),
                    now, wu.occurredAt(), wu.eventId(), null, null, null, prices.unitKindOf(wu), wu.units(),
                    priced.rates(), priced.priceBookVersion(), null, wu.requestHash());
        };
    }

    static UsageEvent parse(Map<String, Object> body) {
        Fields f = new Fields(body);
        String type = f.string("type", true);
        switch (type) {
            case "ai_tokens" -> f.only(AI_FIELDS);
            case "workload_units" -> f.only(WU_FIELDS);
            default -> throw ApiException.invalid("type", "must be ai_tokens or workload_units");
        }
        String eventId = f.string("eventId", true);
        if (!EventId.isValid(eventId)) throw ApiException.invalid("eventId", "must be 1 to 128 printable characters without spaces");
        Instant occurredAt = f.instant("occurredAt", false);
        if (type.equals("ai_tokens")) {
            String model = f.string("model", true);
            if (model.isEmpty() || model.length() > 128) throw ApiException.invalid("model", "must be 1 to 128 characters");
            long in = f.count("inputTokens", true, 0, UsageEvent.MAX_QUANTITY);
            long out = f.count("outputTokens", true, 0, UsageEvent.MAX_QUANTITY);
            if (in + out == 0) throw ApiException.invalid("inputTokens", "and outputTokens must not both be 0");
            return new UsageEvent.AiTokens(eventId, model, in, out, occurredAt);
        }
        String unit = f.string("unit", false);
        if (unit != null && (unit.isEmpty() || unit.length() > 64)) throw ApiException.invalid("unit", "must be 1 to 64 characters");
        long units = f.count("units", true, 1, UsageEvent.MAX_QUANTITY);
        return new UsageEvent.WorkloadUnits(eventId, unit, units, occurredAt);
    }

    private APIGatewayV2HTTPResponse record(AccountId account, UsageEvent event, boolean readBack) {
        PriceBook.Quote.Priced priced = quote(event);
        Instant now = clock.instant().truncatedTo(ChronoUnit.MILLIS);
        LedgerEntry entry = entryFor(account, event, priced, now);
        return switch (store.post(entry, CreditsStore.Mode.CHARGE, java.util.List.of(), readBack)) {
            case ChargeOutcome.Charged c -> Response.json(201, result(c.entry(), c.after(), false));
            case ChargeOutcome.Replayed r -> Response.json(200, result(r.entry(), r.current(), true));
            case ChargeOutcome.IdempotencyConflict c -> throw new ApiException(409, "idempotency_conflict",
                    "eventId '" + event.eventId() + "' was already recorded with a different body.",
                    Map.of("field", "eventId"), null);
            case ChargeOutcome.HardLimitReached h -> {
                Map<String, Object> d = new LinkedHashMap<>();
                d.put("cost", Credits.toCredits(h.cost()));
                d.put("balance", Credits.toCredits(h.account().balance()));
                d.put("held", Credits.toCredits(h.account().held()));
                d.put("hardLimit", Credits.toCredits(h.account().hardLimit()));
                throw new ApiException(402, "hard_limit_reached", "Charging " + Credits.format(h.cost())
                        + " credits would take the balance below the hard limit of "
                        + Credits.format(h.account().hardLimit()) + ".", d, null);
            }
            case ChargeOutcome.AccountClosed c -> throw ApiException.closed(account.value());
            case ChargeOutcome.AccountNotFound n -> throw ApiException.notFound(account.value());
            case ChargeOutcome.ExtraConditionFailed x -> throw new IllegalStateException("no extra items were posted");
            case ChargeOutcome.BalanceCapExceeded x -> throw new IllegalStateException("a charge never raises the balance");
        };
    }

    private static Map<String, Object> result(LedgerEntry entry, Account account, boolean replay) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("accountId", entry.accountId().value());
        m.put("replayed", replay);
        m.putAll(Views.entry(entry));
        if (account != null) {
            // first result: read right after the charge committed; a replay shows the balance now
            m.put("balance", Credits.toCredits(account.balance()));
            m.put("available", Credits.toCredits(account.available()));
        }
        return m;
    }
}
