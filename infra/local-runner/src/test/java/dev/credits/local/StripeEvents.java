package dev.credits.local;

import dev.credits.webhook.StripeSignature;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Map;
import java.util.UUID;

/** Stripe-shaped event payloads (src/test/resources/events/stripe), filled in and signed like Stripe signs them. */
final class StripeEvents {
    private StripeEvents() {}

    static String load(String name, Map<String, String> values) {
        try (InputStream in = StripeEvents.class.getResourceAsStream("/events/stripe/" + name + ".json")) {
            String s = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            if (!values.containsKey("__EVENT__")) s = s.replace("__EVENT__", "evt_" + UUID.randomUUID().toString().replace("-", ""));
            for (Map.Entry<String, String> e : values.entrySet()) s = s.replace(e.getKey(), e.getValue());
            if (s.contains("__")) throw new IllegalStateException("unfilled placeholder in " + name + ": " + s.substring(s.indexOf("__"), s.indexOf("__") + 20));
            return s;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static String session(String type, String account, String sessionId, String pi, long credits, long amount, String status) {
        return load("checkout.session", Map.of("__TYPE__", type, "__ACCOUNT__", account, "__REF__", account,
                "__SESSION__", sessionId, "__PI__", pi, "__CREDITS__", Long.toString(credits), "__AMOUNT__", Long.toString(amount),
                "__STATUS__", status, "__CURRENCY__", "usd"));
    }

    static String refund(String pi, String charge, long amount, long refunded) {
        return load("charge.refunded", Map.of("__CHARGE__", charge, "__PI__", pi, "__AMOUNT__", Long.toString(amount),
                "__REFUNDED__", Long.toString(refunded), "__FULLY__", Boolean.toString(refunded >= amount)));
    }

    static String dispute(String pi, String charge, String disputeId, long amount) {
        return load("charge.dispute.created", Map.of("__CHARGE__", charge, "__PI__", pi, "__DISPUTE__", disputeId,
                "__AMOUNT__", Long.toString(amount)));
    }

    static String invoice(String account, String invoiceId, String price) {
        return invoice(account, invoiceId, price, "subscription_cycle", 2900);
    }

    static String invoice(String account, String invoiceId, String price, String billingReason, long paid) {
        return load("invoice.paid", Map.of("__ACCOUNT__", account, "__INVOICE__", invoiceId, "__SUB__", "sub_" + invoiceId,
                "__PRICE__", price, "__PIINV__", "pi_" + invoiceId, "__REASON__", billingReason, "__PAID__", Long.toString(paid)));
    }

    static final StripeSignature SIGNER = new StripeSignature(TestStack.WEBHOOK_SECRET, 300, Clock.systemUTC());

    /** Delivers a payload to the local runner's webhook, signed with the suite's secret. */
    static TestStack.Resp deliver(String payload) {
        return deliver(payload, SIGNER.header(payload));
    }

    static TestStack.Resp deliver(String payload, String signatureHeader) {
        return TestStack.callWithHeaders("POST", "/v1/stripe/webhook", payload, "application/json; charset=utf-8",
                signatureHeader == null ? Map.of() : Map.of("Stripe-Signature", signatureHeader));
    }
}
