package dev.credits.local;

import dev.credits.core.json.Json;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The local stand-in for API Gateway's JWT authorizer: HS256 tokens signed with a local secret, checked for
 * signature, issuer, audience and expiry. Deployed, API Gateway validates the identity provider's tokens instead;
 * the claims the handlers read ({@code sub}, {@code account_id}, {@code scope}) are the same.
 */
public final class LocalJwt {
    public static final String ISSUER = "credits-local";
    public static final String AUDIENCE = "credits-api";
    /** A development secret: the local runner is for one machine, never exposed. Override with LOCAL_JWT_SECRET. */
    public static final String DEFAULT_SECRET = "local-development-only-not-a-secret";

    private final byte[] secret;
    private final Clock clock;

    public LocalJwt(String secret, Clock clock) {
        this.secret = secret.getBytes(StandardCharsets.UTF_8);
        this.clock = clock;
    }

    public static LocalJwt fromEnv() {
        String s = System.getenv("LOCAL_JWT_SECRET");
        return new LocalJwt(s == null || s.isBlank() ? DEFAULT_SECRET : s, Clock.systemUTC());
    }

    /** Validated claims, as API Gateway passes them to a handler. */
    public record Claims(Map<String, String> claims, List<String> scopes) {}

    public String issue(String subject, String accountId, List<String> scopes, long ttlSeconds) {
        long now = clock.instant().getEpochSecond();
        Map<String, Object> payload = new LinkedHashMap<>();
        payload.put("iss", ISSUER);
        payload.put("aud", AUDIENCE);
        payload.put("sub", subject);
        if (accountId != null) payload.put("account_id", accountId);
        if (!scopes.isEmpty()) payload.put("scope", String.join(" ", scopes));
        payload.put("iat", now);
        payload.put("exp", now + ttlSeconds);
        String header = b64(Json.write(Map.of("alg", "HS256", "typ", "JWT")));
        String body = b64(Json.write(payload));
        return header + "." + body + "." + sign(header + "." + body);
    }

    public Optional<Claims> verify(String token) {
        if (token == null) return Optional.empty();
        String[] parts = token.split("\\.", -1);
        if (parts.length != 3) return Optional.empty();
        try {
            Map<String, Object> header = Json.parseObject(new String(Base64.getUrlDecoder().decode(parts[0]), StandardCharsets.UTF_8));
            if (!"HS256".equals(header.get("alg"))) return Optional.empty();
            byte[] expected = sign(parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII);
            if (!MessageDigest.isEqual(expected, parts[2].getBytes(StandardCharsets.US_ASCII))) return Optional.empty();
            Map<String, Object> payload = Json.parseObject(new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8));
            if (!ISSUER.equals(payload.get("iss")) || !AUDIENCE.equals(payload.get("aud"))) return Optional.empty();
            long now = clock.instant().getEpochSecond();
            if (!(payload.get("exp") instanceof BigDecimal exp) || exp.longValue() <= now) return Optional.empty();
            if (payload.get("nbf") instanceof BigDecimal nbf && nbf.longValue() > now) return Optional.empty();
            Map<String, String> claims = new LinkedHashMap<>();
            payload.forEach((k, v) -> claims.put(k, v instanceof BigDecimal d ? d.toPlainString() : String.valueOf(v)));
            List<String> scopes = new ArrayList<>();
            String scope = claims.get("scope");
            if (scope != null && !scope.isBlank()) scopes.addAll(List.of(scope.trim().split("\\s+")));
            return Optional.of(new Claims(claims, scopes));
        } catch (Json.MalformedJsonException | IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    private String sign(String data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(mac.doFinal(data.getBytes(StandardCharsets.US_ASCII)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String b64(String s) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }
}
