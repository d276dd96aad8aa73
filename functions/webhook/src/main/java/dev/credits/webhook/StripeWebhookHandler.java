package dev.credits.webhook;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import dev.credits.core.domain.AccountId;
import dev.credits.core.domain.ChargeOutcome;
import dev.credits.core.http.ApiException;
import dev.credits.core.http.HttpFunction;
import dev.credits.core.http.Request;
import dev.credits.core.http.Response;
import dev.credits.core.json.Json;
import dev.credits.core.log.Log;
import dev.credits.core.money.Credits;
import dev.credits.core.store.Clients;
import dev.credits.core.store.PaymentsStore;
import dev.credits.core.store.StoreConfig;
import dev.credits.payments.PaymentsConfig;
import dev.credits.payments.Secrets;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code POST /v1/stripe/webhook}, authenticated by the Stripe signature only. Credits paid Checkout Sessions and
 * paid plan invoices, claws back refunds and disputes, and ignores everything else with a 200. Every effect is keyed
 * by the Stripe business object (session, invoice, payment intent, dispute), not the event id, so duplicate,
 * concurrent and out-of-order deliveries have one effect.
 */
public final class StripeWebhookHandler extends HttpFunction {
    static final int MAX_BODY_BYTES = 256 * 1024;

    private final PaymentsStore payments;
    private final PaymentsConfig config;
    /** The checker for the current signing secret (built again when it is rotated; see {@link Secrets}). */
    private final java.util.function.Supplier<StripeSignature> signature;

    public StripeWebhookHandler() {
        this(System.getenv());
    }

    public StripeWebhookHandler(Map<String, String> env) {
        this(Clients.dynamo(StoreConfig.fromEnv(env)), StoreConfig.fromEnv(env), PaymentsConfig.fromEnv(env),
                Secrets.derived(Secrets.of(env, "STRIPE_WEBHOOK_SECRET", Clock.systemUTC()),
                        secret -> new StripeSignature(secret, StripeSignature.DEFAULT_TOLERANCE_SECONDS, Clock.systemUTC())),
                Clock.systemUTC());
    }

    public StripeWebhookHandler(DynamoDbClient dynamo, StoreConfig store, PaymentsConfig config, StripeSignature signature, Clock clock) {
        this(dynamo, store, config, () -> signature, clock);
    }

    public StripeWebhookHandler(DynamoDbClient dynamo, StoreConfig store, PaymentsConfig config,
                                java.util.function.Supplier<StripeSignature> signature, Clock clock) {
        this.payments = new PaymentsStore(dynamo, store, clock);
        this.config = config;
        this.signature = signature;
    }

    @Override
    protected APIGatewayV2HTTPResponse route(Request r) {
        if (!r.routeKey().equals("POST /v1/stripe/webhook")) throw noRoute(r);
        String raw = r.rawBody();
        if (raw.getBytes(StandardCharsets.UTF_8).length > MAX_BODY_BYTES) {
            throw new ApiException(413, "payload_too_large", "The webhook body is larger than " + MAX_BODY_BYTES + " bytes.");
        }
        String problem = signature.get().problem(raw, r.header("stripe-signature"));
        if (problem != null) {
            Log.warn("stripe_signature_refused", r.requestId(), "problem", problem);
            throw new ApiException(400, "invalid_request", "The Stripe signature does not verify: " + problem + ".",
                    Map.of("field", "Stripe-Signature"), null);
        }
        Map<String, Object> event;
        try {
            event = Json.parseObject(raw);
        } catch (Json.MalformedJsonException e) {
            throw ApiException.invalidBody("The signed body is not a JSON object.");
        }
        String type = str(event, "type");
        String eventId = str(event, "id");
        Map<String, Object> object = map(map(event, "data"), "object");
        if (type == null || eventId == null || object == null) throw ApiException.invalidBody("Not a Stripe event.");
        String result = switch (type) {
            case "checkout.session.completed", "checkout.session.async_payment_succeeded" -> session(object, eventId, r.requestId());
            case "checkout.session.async_payment_failed" -> {
                Log.info("stripe_async_payment_failed", r.requestId(), "session", str(object, "id"));
                yield "payment failed: nothing credited";
            }
            case "invoice.paid" -> invoice(object, eventId, r.requestId());
            case "charge.refunded" -> refund(object, eventId);
            case "charge.dispute.created" -> dispute(object, eventId, r.requestId());
            default -> "ignored";
        };
        Log.info("stripe_event", r.requestId(), "type", type, "stripeEvent", eventId, "result", result);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("received", true);
        body.put("result", result);
        return Response.json(200, body);
    }

    private String session(Map<String, Object> s, String eventId, String requestId) {
        String sessionId = id(s, "id");
        if (!"payment".equals(str(s, "mode"))) return "ignored: not a one-time payment";
        if (!"paid".equals(str(s, "payment_status"))) return "not paid yet: waiting for async_payment_succeeded";
        Map<String, Object> meta = map(s, "metadata");
        String account = meta == null ? null : str(meta, "accountId");
        String ref = str(s, "client_reference_id");
        Map<String, String> details = new LinkedHashMap<>();
        details.put("checkoutSession", sessionId);
        details.put("stripeEvent", eventId);
        details.put("account", account);
        if (account == null || !AccountId.isValid(account) || !account.equals(ref)) {
            return review(sessionId, "account_reference_mismatch", details, requestId);
        }
        long credits;
        try {
            credits = Long.parseLong(String.valueOf(meta.get("credits")));
        } catch (NumberFormatException e) {
            return review(sessionId, "credits_metadata_invalid", details, requestId);
        }
        if (credits < config.minCredits() || credits > config.maxCredits()) {
            return review(sessionId, "credits_out_of_range", details, requestId);
        }
        long total = whole(s, "amount_total", -1);
        String currency = str(s, "currency");
        long expected = config.amountFor(credits);
        details.put("expectedAmount", expected + " " + config.currency());
        details.put("paidAmount", total + " " + currency);
        if (total != expected || !config.currency().equals(currency)) {
            return review(sessionId, "amount_mismatch", details, requestId);
        }
        var outcome = payments.creditTopUp(new PaymentsStore.TopUp(new AccountId(account), sessionId, optionalId(s, "payment_intent"),
                Math.multiplyExact(credits, Credits.MICROS_PER_CREDIT), expected, currency, eventId));
        return switch (outcome) {
            case ChargeOutcome.Charged c -> "credited " + credits + " credits";
            case ChargeOutcome.Replayed rp -> "already credited";
            case ChargeOutcome.AccountClosed c -> review(sessionId, "account_closed", details, requestId);
            case ChargeOutcome.AccountNotFound n -> review(sessionId, "account_not_found", details, requestId);
            case ChargeOutcome.IdempotencyConflict c -> review(sessionId, "conflicting_session_record", details, requestId);
            case ChargeOutcome.ExtraConditionFailed x -> "already credited";
            case ChargeOutcome.BalanceCapExceeded x -> review(sessionId, "balance_cap_exceeded", details, requestId);
            case ChargeOutcome.HardLimitReached h -> throw new IllegalStateException("a credit is never limited");
        };
    }

    private String invoice(Map<String, Object> inv, String eventId, String requestId) {
        String invoiceId = id(inv, "id");
        if (!"paid".equals(str(inv, "status"))) return "ignored: invoice not paid";
        String reason = str(inv, "billing_reason");
        if (reason != null && !reason.equals("subscription_create") && !reason.equals("subscription_cycle")) {
            // a plan change's prorations or a manual invoice: the plan's credits come with each period's own invoice
            return "ignored: billing_reason " + reason + " grants no plan credits";
        }
        // API versions differ on where the subscription sits: parent.subscription_details (2025+) or top level
        Map<String, Object> subDetails = map(map(inv, "parent"), "subscription_details");
        if (subDetails == null) subDetails = map(inv, "subscription_details");
        String subscription = subDetails != null && subDetails.get("subscription") instanceof String ss ? ss : str(inv, "subscription");
        if (subscription == null) return "ignored: not a subscription invoice";
        String account = subDetails == null || map(subDetails, "metadata") == null ? null : str(map(subDetails, "metadata"), "accountId");
        if (account == null && map(inv, "metadata") != null) account = str(map(inv, "metadata"), "accountId");
        Map<String, String> details = new LinkedHashMap<>();
        details.put("invoice", invoiceId);
        details.put("subscription", subscription);
        details.put("stripeEvent", eventId);
        details.put("account", account);
        if (account == null || !AccountId.isValid(account)) return review(invoiceId, "account_missing_on_subscription", details, requestId);
        long micros = 0;
        String price = null;
        Map<String, Object> lines = map(inv, "lines");
        Object data = lines == null ? null : lines.get("data");
        if (data instanceof List<?> list) {
            for (Object o : list) {
                if (!(o instanceof Map<?, ?>)) continue;
                @SuppressWarnings("unchecked") Map<String, Object> line = (Map<String, Object>) o;
                String p = linePrice(line);
                Long perUnit = p == null ? null : config.planCreditsMicrosByPrice().get(p);
                if (perUnit == null) continue;
                if (Boolean.TRUE.equals(line.get("proration")) || nested(line, "parent", "subscription_item_details", "proration")) continue;
                if (whole(line, "amount", 0) <= 0) continue;
                long q = whole(line, "quantity", 1);
                if (q < 1 || q > 1_000_000) return review(invoiceId, "plan_quantity_out_of_range", details, requestId);
                micros = Math.addExact(micros, Math.multiplyExact(perUnit, q));
                price = p;
            }
        }
        if (micros == 0) {
            details.put("price", price);
            return review(invoiceId, "no_configured_plan_price", details, requestId);
        }
        long paid = whole(inv, "amount_paid", 0);
        if (paid <= 0) {
            details.put("amountPaid", Long.toString(paid));
            return review(invoiceId, "nothing_paid", details, requestId);
        }
        String pi = str(inv, "payment_intent");
        if (pi == null && map(inv, "payments") != null && map(inv, "payments").get("data") instanceof List<?> pays && !pays.isEmpty()
                && pays.get(0) instanceof Map<?, ?> first) {
            @SuppressWarnings("unchecked") Map<String, Object> payment = map((Map<String, Object>) first, "payment");
            pi = str(payment, "payment_intent");
        }
        Map<String, String> refs = new LinkedHashMap<>();
        refs.put("invoice", invoiceId);
        refs.put("subscription", subscription);
        refs.put("price", price);
        refs.put("stripeEvent", eventId);
        if (pi != null) refs.put("paymentIntent", pi);
        var outcome = payments.grantPlanCredits(new AccountId(account), invoiceId, micros, refs,
                "plan credits for subscription period" + period(inv), pi, paid, str(inv, "currency"));
        return switch (outcome) {
            case ChargeOutcome.Charged c -> "granted " + Credits.format(micros) + " plan credits";
            case ChargeOutcome.Replayed rp -> "already granted";
            case ChargeOutcome.AccountClosed c -> review(invoiceId, "account_closed", details, requestId);
            case ChargeOutcome.AccountNotFound n -> review(invoiceId, "account_not_found", details, requestId);
            case ChargeOutcome.IdempotencyConflict c -> review(invoiceId, "conflicting_invoice_record", details, requestId);
            case ChargeOutcome.ExtraConditionFailed x -> "already granted";
            case ChargeOutcome.BalanceCapExceeded x -> review(invoiceId, "balance_cap_exceeded", details, requestId);
            case ChargeOutcome.HardLimitReached h -> throw new IllegalStateException("a credit is never limited");
        };
    }

    private static String period(Map<String, Object> inv) {
        BigDecimal start = num(inv, "period_start");
        BigDecimal end = num(inv, "period_end");
        if (start == null || end == null) return "";
        return " " + java.time.Instant.ofEpochSecond(start.longValue()) + " to " + java.time.Instant.ofEpochSecond(end.longValue());
    }

    private static boolean nested(Map<String, Object> m, String a, String b, String c) {
        Map<String, Object> x = map(map(m, a), b);
        return x != null && Boolean.TRUE.equals(x.get(c));
    }

    @SuppressWarnings("unchecked")
    private static String linePrice(Map<String, Object> line) {
        Map<String, Object> pricing = map(line, "pricing");
        Map<String, Object> details = pricing == null ? null : map(pricing, "price_details");
        if (details != null && str(details, "price") != null) return str(details, "price");
        Object price = line.get("price");
        if (price instanceof Map<?, ?> pm) return str((Map<String, Object>) pm, "id");
        if (price instanceof String ps) return ps;
        return null;
    }

    private String refund(Map<String, Object> charge, String eventId) {
        String pi = optionalId(charge, "payment_intent");
        long refunded = whole(charge, "amount_refunded", -1);
        if (pi == null || refunded < 0) return "ignored: no payment intent";
        var applied = payments.recordRefund(pi, id(charge, "id"), refunded, eventId);
        return applied.map(e -> "clawed back " + Credits.format(-e.amount()) + " credits").orElse("nothing more to claw back");
    }

    private String dispute(Map<String, Object> d, String eventId, String requestId) {
        String pi = optionalId(d, "payment_intent");
        long amount = whole(d, "amount", -1);
        if ("warning_needs_response".equals(str(d, "status")) || "warning_under_review".equals(str(d, "status"))) {
            return "ignored: an inquiry withdraws no funds";
        }
        if (pi == null || amount < 0) {
            Map<String, String> details = new LinkedHashMap<>();
            details.put("dispute", str(d, "id"));
            details.put("charge", str(d, "charge"));
            details.put("stripeEvent", eventId);
            return review(str(d, "id"), "dispute_without_payment_intent", details, requestId);
        }
        var applied = payments.recordDispute(pi, optionalId(d, "charge"), id(d, "id"), amount, eventId);
        return applied.map(e -> "clawed back " + Credits.format(-e.amount()) + " credits").orElse("nothing more to claw back");
    }

    private String review(String objectId, String reason, Map<String, String> details, String requestId) {
        payments.review(objectId == null ? "unknown" : objectId, reason, details);
        Log.warn("stripe_needs_review", requestId, "object", objectId, "reason", reason, "account", details.get("account"));
        return "not credited: recorded for review (" + reason + ")";
    }

    private static String str(Map<String, Object> m, String k) {
        return m != null && m.get(k) instanceof String s ? s : null;
    }

    /** A Stripe amount or count: a whole number from 0 to 10^12, or a 400 (Stripe never sends anything else). */
    private static long whole(Map<String, Object> m, String k, long fallback) {
        BigDecimal d = num(m, k);
        if (d == null) return fallback;
        BigDecimal s = d.stripTrailingZeros();
        if (s.scale() > 0 || s.signum() < 0 || s.compareTo(BigDecimal.valueOf(1_000_000_000_000L)) > 0) {
            throw ApiException.invalidBody("'" + k + "' is not a Stripe amount.");
        }
        return s.longValueExact();
    }

    /** A Stripe object id: 1 to 255 printable characters, or a 400. */
    private static String id(Map<String, Object> m, String k) {
        String v = str(m, k);
        if (v == null || v.isEmpty() || v.length() > 255 || !v.chars().allMatch(ch -> ch > 0x20 && ch < 0x7f)) {
            throw ApiException.invalidBody("'" + k + "' is not a Stripe id.");
        }
        return v;
    }

    private static String optionalId(Map<String, Object> m, String k) {
        return str(m, k) == null ? null : id(m, k);
    }

    private static BigDecimal num(Map<String, Object> m, String k) {
        return m != null && m.get(k) instanceof BigDecimal d ? d : null;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Map<String, Object> m, String k) {
        return m != null && m.get(k) instanceof Map<?, ?> x ? (Map<String, Object>) x : null;
    }
}
