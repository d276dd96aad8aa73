package dev.credits.usage;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import dev.credits.core.domain.Account;
import dev.credits.core.domain.AccountId;
import dev.credits.core.domain.EntryType;
import dev.credits.core.domain.EventId;
import dev.credits.core.domain.Hold;
import dev.credits.core.domain.HoldOutcome;
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
import dev.credits.core.store.Clients;
import dev.credits.core.store.HoldsStore;
import dev.credits.core.store.StoreConfig;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Holds for AI calls: reserve the worst-case cost before the call starts ({@code POST .../holds}), charge what was
 * really used ({@code .../capture}, several times during a stream if need be), give back the rest
 * ({@code .../release} or {@code "final": true}). Ships in the usage package: no Stripe, no SNS.
 */
public final class HoldsHandler extends HttpFunction {
    static final int MAX_BODY_BYTES = 8 * 1024;
    static final long DEFAULT_TTL = 900;
    static final long MAX_TTL = 86_400;
    private static final Set<String> AI_FIELDS = Set.of("holdId", "type", "model", "inputTokens", "maxOutputTokens", "ttlSeconds");
    private static final Set<String> WU_FIELDS = Set.of("holdId", "type", "units", "unit", "ttlSeconds");

    private final HoldsStore holds;
    private final PriceBook prices;

    public HoldsHandler() {
        this(System.getenv());
    }

    public HoldsHandler(Map<String, String> env) {
        this(Clients.dynamo(StoreConfig.fromEnv(env)), StoreConfig.fromEnv(env), PriceBookLoader.fromClasspath(), Clock.systemUTC());
        dev.credits.core.snap.Priming.register("holds", this::prime);
    }

    /** SnapStart priming without a write: a request without claims through the shell, a price, a hold read. */
    public void prime() {
        handleRequest(com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent.builder()
                .withRouteKey("POST /v1/accounts/{id}/holds").withPathParameters(Map.of("id", UsageHandler.PRIMING_ACCOUNT))
                .withHeaders(Map.of("content-type", "application/json")).withBody("{}").build(), null);
        prices.price(new UsageEvent.AiTokens("prime", "gpt-4o-mini", 1000, 1000, null));
        holds.find(new AccountId(UsageHandler.PRIMING_ACCOUNT), "prime");
    }

    public HoldsHandler(DynamoDbClient dynamo, StoreConfig config, PriceBook prices, Clock clock) {
        this.holds = new HoldsStore(dynamo, config, clock);
        this.prices = prices;
    }

    @Override
    protected APIGatewayV2HTTPResponse route(Request r) {
        return switch (r.routeKey()) {
            case "POST /v1/accounts/{id}/holds" -> place(r);
            case "POST /v1/accounts/{id}/holds/{holdId}/capture" -> capture(r);
            case "POST /v1/accounts/{id}/holds/{holdId}/release" -> release(r);
            case "GET /v1/accounts/{id}/holds/{holdId}" -> get(r);
            default -> throw noRoute(r);
        };
    }

    private static String holdIdParam(Request r) {
        String h = r.pathParam("holdId");
        if (!EventId.isValid(h)) throw ApiException.invalid("holdId", "must be 1 to 128 printable characters without spaces");
        return h;
    }

    private APIGatewayV2HTTPResponse place(Request r) {
        String id = r.accountId();
        r.caller().require(id, Caller.Role.METERING, Caller.Role.ADMIN);
        Fields f = new Fields(r.jsonBody(MAX_BODY_BYTES));
        String type = f.has("type") ? f.string("type", true) : "ai_tokens";
        f.only(switch (type) {
            case "ai_tokens" -> AI_FIELDS;
            case "workload_units" -> WU_FIELDS;
            default -> throw ApiException.invalid("type", "must be ai_tokens or workload_units");
        });
        String holdId = f.string("holdId", true);
        if (!EventId.isValid(holdId)) throw ApiException.invalid("holdId", "must be 1 to 128 printable characters without spaces");
        long ttl = f.has("ttlSeconds") ? f.count("ttlSeconds", true, 10, MAX_TTL) : DEFAULT_TTL;
        UsageEvent worst;
        if (type.equals("ai_tokens")) {
            String model = f.string("model", true);
            if (model.isEmpty() || model.length() > 128) throw ApiException.invalid("model", "must be 1 to 128 characters");
            long in = f.count("inputTokens", true, 0, UsageEvent.MAX_QUANTITY);
            long out = f.count("maxOutputTokens", true, 0, UsageEvent.MAX_QUANTITY);
            if (in + out == 0) throw ApiException.invalid("maxOutputTokens", "and inputTokens must not both be 0");
            worst = new UsageEvent.AiTokens(holdId, model, in, out, null);
        } else {
            String unit = f.string("unit", false);
            long units = f.count("units", true, 1, UsageEvent.MAX_QUANTITY);
            UsageEvent.WorkloadUnits asked = new UsageEvent.WorkloadUnits(holdId, unit, units, null);
            worst = new UsageEvent.WorkloadUnits(holdId, prices.unitKindOf(asked), units, null);
        }
        PriceBook.Quote.Priced p = switch (prices.price(worst)) {
            case PriceBook.Quote.Priced q -> q;
            case PriceBook.Quote.UnknownModel m -> throw new ApiException(400, "unknown_model",
                    "Model '" + m.model() + "' is not in price book " + prices.version() + ".", Map.of("field", "model"), null);
            case PriceBook.Quote.UnknownUnit u -> throw new ApiException(400, "unknown_unit",
                    "Unit kind '" + u.unitKind() + "' is not in price book " + prices.version() + ".", Map.of("field", "unit"), null);
            case PriceBook.Quote.TooLarge t -> throw ApiException.invalidBody("The worst-case cost of this hold is too large.");
        };
        String hash = dev.credits.core.domain.Hashes.sha256("hold|" + worst.canonical() + "|" + ttl);
        HoldsStore.Request req = switch (worst) {
            case UsageEvent.AiTokens ai -> new HoldsStore.Request(new AccountId(id), holdId, EntryType.AI_TOKENS, ai.model(),
                    ai.inputTokens(), ai.outputTokens(), null, null, p.costMicros(), p.rates(), p.priceBookVersion(), ttl, hash);
            case UsageEvent.WorkloadUnits wu -> new HoldsStore.Request(new AccountId(id), holdId, EntryType.WORKLOAD_UNITS, null,
                    null, null, wu.unitKind(), wu.units(), p.costMicros(), p.rates(), p.priceBookVersion(), ttl, hash);
        };
        return switch (holds.place(req)) {
            case HoldOutcome.Held h -> Response.json(h.replayed() ? 200 : 201, holdView(h.hold(), h.after(), h.replayed()));
            case HoldOutcome.HardLimitReached h -> throw hardLimit(h.cost(), h.account());
            case HoldOutcome.IdempotencyConflict c -> throw new ApiException(409, "idempotency_conflict",
                    "holdId '" + holdId + "' was already used with a different body.", Map.of("field", "holdId"), null);
            case HoldOutcome.AccountClosed c -> throw ApiException.closed(id);
            case HoldOutcome.AccountNotFound n -> throw ApiException.notFound(id);
            default -> throw new IllegalStateException("unexpected outcome of placing a hold");
        };
    }

    private APIGatewayV2HTTPResponse capture(Request r) {
        String id = r.accountId();
        r.caller().require(id, Caller.Role.METERING, Caller.Role.ADMIN);
        String holdId = holdIdParam(r);
        Fields f = new Fields(r.jsonBody(MAX_BODY_BYTES)).only(Set.of("captureId", "inputTokens", "outputTokens", "units", "final"));
        String captureId = f.string("captureId", true);
        if (!EventId.isValid(captureId)) throw ApiException.invalid("captureId", "must be 1 to 128 printable characters without spaces");
        boolean last = Boolean.TRUE.equals(f.bool("final"));
        Hold h = holds.find(new AccountId(id), holdId);
        if (h == null) throw holdNotFound(holdId);
        Long in = null, out = null, units = null;
        if (h.feature() == EntryType.AI_TOKENS) {
            if (f.has("units")) throw ApiException.invalid("units", "is for workload holds; this hold is for AI tokens");
            in = f.count("inputTokens", true, 0, UsageEvent.MAX_QUANTITY);
            out = f.count("outputTokens", true, 0, UsageEvent.MAX_QUANTITY);
        } else {
            if (f.has("inputTokens") || f.has("outputTokens")) throw ApiException.invalid("inputTokens", "is for AI holds; this hold is for workload units");
            units = f.count("units", true, 0, UsageEvent.MAX_QUANTITY);
        }
        String hash = dev.credits.core.domain.Hashes.sha256("capture|" + holdId + "|" + captureId + "|" + in + "|" + out + "|" + units + "|" + last);
        return switch (holds.capture(new HoldsStore.Capture(new AccountId(id), holdId, captureId, in, out, units, last, hash), h)) {
            case HoldOutcome.Captured c -> Response.json(c.replayed() ? 200 : 201, captureView(c));
            case HoldOutcome.ExceedsHold x -> throw new ApiException(409, "exceeds_hold", "Capturing " + Credits.format(x.cost())
                    + " credits would exceed what is left of the hold (" + Credits.format(x.hold().remaining()) + ").",
                    Map.of("cost", Credits.toCredits(x.cost()), "remaining", Credits.toCredits(x.hold().remaining())), null);
            case HoldOutcome.Expired x -> throw new ApiException(409, "hold_expired", "Hold '" + holdId + "' expired at "
                    + x.hold().expiresAt() + "; record the usage as a plain usage event.", Map.of("expiresAt", x.hold().expiresAt().toString()), null);
            case HoldOutcome.NotOpen x -> throw new ApiException(409, "hold_closed", "Hold '" + holdId + "' is "
                    + x.hold().status().name().toLowerCase() + "; it takes no more captures.", Map.of(), null);
            case HoldOutcome.IdempotencyConflict c -> throw new ApiException(409, "idempotency_conflict",
                    "captureId '" + captureId + "' was already used with a different body.", Map.of("field", "captureId"), null);
            case HoldOutcome.HoldNotFound n -> throw holdNotFound(holdId);
            default -> throw new IllegalStateException("unexpected outcome of a capture");
        };
    }

    private APIGatewayV2HTTPResponse release(Request r) {
        String id = r.accountId();
        r.caller().require(id, Caller.Role.METERING, Caller.Role.ADMIN);
        String holdId = holdIdParam(r);
        if (!r.rawBody().isBlank()) new Fields(r.jsonBody(MAX_BODY_BYTES)).only(Set.of());
        return switch (holds.release(new AccountId(id), holdId, Hold.Status.RELEASED)) {
            case HoldOutcome.Released rel -> {
                Map<String, Object> m = new LinkedHashMap<>(holdView(rel.hold(), null, rel.replayed()));
                if (!rel.replayed()) m.put("released", Credits.toCredits(rel.released()));
                yield Response.json(200, m);
            }
            case HoldOutcome.HoldNotFound n -> throw holdNotFound(holdId);
            default -> throw new IllegalStateException("unexpected outcome of a release");
        };
    }

    private APIGatewayV2HTTPResponse get(Request r) {
        String id = r.accountId();
        r.caller().require(id, Caller.Role.OWNER, Caller.Role.METERING, Caller.Role.ADMIN);
        Hold h = holds.find(new AccountId(id), holdIdParam(r));
        if (h == null) throw holdNotFound(r.pathParam("holdId"));
        return Response.json(200, holdView(h, null, false));
    }

    private static ApiException holdNotFound(String holdId) {
        return new ApiException(404, "hold_not_found", "No hold '" + holdId + "' on this account.", Map.of("field", "holdId"), null);
    }

    static ApiException hardLimit(long cost, Account a) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("cost", Credits.toCredits(cost));
        d.put("balance", Credits.toCredits(a.balance()));
        d.put("held", Credits.toCredits(a.held()));
        d.put("hardLimit", Credits.toCredits(a.hardLimit()));
        return new ApiException(402, "hard_limit_reached", "Holding " + Credits.format(cost)
                + " credits would take the available balance below the hard limit of " + Credits.format(a.hardLimit()) + ".", d, null);
    }

    private static Map<String, Object> holdView(Hold h, Account after, boolean replayed) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("accountId", h.account().value());
        m.put("holdId", h.holdId());
        m.put("replayed", replayed);
        m.put("status", h.status().name());
        m.put("type", h.feature().wire());
        if (h.model() != null) m.put("model", h.model());
        if (h.inputTokens() != null) m.put("inputTokens", h.inputTokens());
        if (h.maxOutputTokens() != null) m.put("maxOutputTokens", h.maxOutputTokens());
        if (h.unitKind() != null) m.put("unit", h.unitKind());
        if (h.maxUnits() != null) m.put("units", h.maxUnits());
        m.put("held", Credits.toCredits(h.held()));
        m.put("captured", Credits.toCredits(h.captured()));
        m.put("remaining", Credits.toCredits(h.remaining()));
        m.put("rates", new LinkedHashMap<>(h.rates()));
        m.put("priceBookVersion", h.priceBookVersion());
        m.put("createdAt", h.createdAt().toString());
        m.put("expiresAt", h.expiresAt().toString());
        if (after != null) {
            m.put("balance", Credits.toCredits(after.balance()));
            m.put("heldTotal", Credits.toCredits(after.held()));
            m.put("available", Credits.toCredits(after.available()));
        }
        return m;
    }

    private static Map<String, Object> captureView(HoldOutcome.Captured c) {
        LedgerEntry e = c.capture();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("accountId", e.accountId().value());
        m.put("holdId", c.hold() == null ? null : c.hold().holdId());
        m.put("captureId", e.eventId());
        m.put("replayed", c.replayed());
        m.putAll(Views.entry(e));
        if (c.hold() != null) {
            m.put("holdStatus", c.hold().status().name());
            m.put("remaining", Credits.toCredits(c.hold().remaining()));
        }
        if (c.after() != null) {
            m.put("balance", Credits.toCredits(c.after().balance()));
            m.put("available", Credits.toCredits(c.after().available()));
        }
        return m;
    }
}
