package dev.credits.core.http;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import dev.credits.core.json.Json;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/** Builds API Gateway HTTP API responses: JSON bodies, the one error shape, never a stack trace. */
public final class Response {
    private Response() {}

    public static APIGatewayV2HTTPResponse json(int status, Object body) {
        Map<String, String> headers = new HashMap<>();
        headers.put("content-type", "application/json");
        headers.put("cache-control", "no-store");
        return APIGatewayV2HTTPResponse.builder()
                .withStatusCode(status)
                .withHeaders(headers)
                .withBody(Json.write(body))
                .withIsBase64Encoded(false)
                .build();
    }

    public static APIGatewayV2HTTPResponse error(ApiException e) {
        Map<String, Object> err = new LinkedHashMap<>();
        err.put("code", e.code());
        err.put("message", e.getMessage());
        err.putAll(e.details());
        APIGatewayV2HTTPResponse r = json(e.status(), Map.of("error", err));
        if (e.retryAfterSeconds() != null) r.getHeaders().put("retry-after", String.valueOf(e.retryAfterSeconds()));
        return r;
    }
}
