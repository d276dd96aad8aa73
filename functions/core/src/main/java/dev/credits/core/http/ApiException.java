package dev.credits.core.http;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A request that ends in an error response of the spec's one shape:
 * {@code {"error": {"code": ..., "message": ..., ...details}}}.
 */
public final class ApiException extends RuntimeException {
    private final int status;
    private final String code;
    private final Map<String, Object> details;
    private final Integer retryAfterSeconds;

    public ApiException(int status, String code, String message) {
        this(status, code, message, Map.of(), null);
    }

    public ApiException(int status, String code, String message, Map<String, Object> details, Integer retryAfterSeconds) {
        super(message, null, false, false);
        this.status = status;
        this.code = code;
        this.details = new LinkedHashMap<>(details);
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public int status() { return status; }
    public String code() { return code; }
    public Map<String, Object> details() { return details; }
    public Integer retryAfterSeconds() { return retryAfterSeconds; }

    public static ApiException invalid(String field, String message) {
        return new ApiException(400, "invalid_request", "'" + field + "' " + message, Map.of("field", field), null);
    }

    public static ApiException invalidBody(String message) {
        return new ApiException(400, "invalid_request", message);
    }

    public static ApiException notFound(String accountId) {
        return new ApiException(404, "account_not_found", "Account '" + accountId + "' does not exist.");
    }

    public static ApiException closed(String accountId) {
        return new ApiException(403, "account_closed", "Account '" + accountId + "' is closed.");
    }

    public static ApiException unavailable(String message) {
        return new ApiException(503, "unavailable", message, Map.of(), 1);
    }
}
