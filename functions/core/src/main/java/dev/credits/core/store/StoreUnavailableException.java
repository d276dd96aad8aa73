package dev.credits.core.store;

/** DynamoDB could not answer (throttled, 5xx, timed out, conflicts that did not clear): retryable by the caller. */
public final class StoreUnavailableException extends RuntimeException {
    public StoreUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
