package dev.credits.webhook;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Verifies a {@code Stripe-Signature} header the way Stripe's libraries do (stripe-java {@code Webhook.Signature}):
 * {@code t=<unix time>,v1=<hex HMAC-SHA256 of "t.payload">[,v1=...]}, any v1 matching, compared in constant time,
 * and the timestamp within a tolerance of now (a replayed old delivery is refused). Written here so the webhook
 * package does not carry the 19 MB stripe-java; the clock is injected so tolerance cases are testable.
 */
public final class StripeSignature {
    public static final long DEFAULT_TOLERANCE_SECONDS = 300;

    private final byte[] secret;
    private final long toleranceSeconds;
    private final Clock clock;

    public StripeSignature(String secret, long toleranceSeconds, Clock clock) {
        if (secret == null || secret.isBlank()) throw new IllegalStateException("webhook signing secret is empty");
        this.secret = secret.getBytes(StandardCharsets.UTF_8);
        this.toleranceSeconds = toleranceSeconds;
        this.clock = clock;
    }

    /** Why a delivery is refused, or null when it is genuine. */
    public String problem(String payload, String header) {
        if (header == null || header.isBlank()) return "missing Stripe-Signature header";
        long timestamp = -1;
        List<String> v1 = new ArrayList<>();
        for (String part : header.split(",")) {
            String[] kv = part.trim().split("=", 2);
            if (kv.length != 2) continue;
            if (kv[0].equals("t")) {
                try {
                    timestamp = Long.parseLong(kv[1]);
                } catch (NumberFormatException e) {
                    return "malformed timestamp";
                }
            } else if (kv[0].equals("v1")) {
                v1.add(kv[1]);
            }
        }
        if (timestamp < 0) return "no timestamp in Stripe-Signature";
        if (v1.isEmpty()) return "no v1 signature in Stripe-Signature";
        byte[] expected = sign(timestamp, payload).getBytes(StandardCharsets.US_ASCII);
        boolean match = false;
        for (String candidate : v1) {
            match |= MessageDigest.isEqual(expected, candidate.getBytes(StandardCharsets.US_ASCII));
        }
        if (!match) return "no signature matches the payload";
        long now = clock.instant().getEpochSecond();
        if (toleranceSeconds > 0 && Math.abs(now - timestamp) > toleranceSeconds) return "timestamp outside the tolerance";
        return null;
    }

    /** The v1 signature of a payload at a time (tests and the local sender use it to sign like Stripe). */
    public String sign(long timestamp, String payload) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            return HexFormat.of().formatHex(mac.doFinal((timestamp + "." + payload).getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A complete header for a payload signed now, as Stripe sends it. */
    public String header(String payload) {
        long t = clock.instant().getEpochSecond();
        return "t=" + t + ",v1=" + sign(t, payload);
    }
}
