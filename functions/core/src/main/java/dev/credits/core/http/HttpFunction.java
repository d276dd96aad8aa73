package dev.credits.core.http;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import dev.credits.core.log.Log;
import dev.credits.core.store.StoreUnavailableException;

/**
 * The shell every HTTP function shares: route, map outcomes and failures to the one error shape, log one line.
 * A handler only implements {@link #route}. Nothing escapes as a 500 with a stack trace.
 */
public abstract class HttpFunction implements RequestHandler<APIGatewayV2HTTPEvent, APIGatewayV2HTTPResponse> {

    /** Handles one request; throws {@link ApiException} for every refusal. */
    protected abstract APIGatewayV2HTTPResponse route(Request request);

    @Override
    public final APIGatewayV2HTTPResponse handleRequest(APIGatewayV2HTTPEvent event, Context context) {
        long start = System.nanoTime();
        Request request = new Request(event);
        String requestId = context != null && context.getAwsRequestId() != null
                ? context.getAwsRequestId() : request.requestId();
        APIGatewayV2HTTPResponse response;
        String code = null;
        if (context != null && context.getRemainingTimeInMillis() > 0) {
            dev.credits.core.store.Deadline.start(context.getRemainingTimeInMillis());
        }
        try {
            if (headerBytes(event) > MAX_HEADER_BYTES) {
                throw new ApiException(431, "headers_too_large", "The request's headers exceed " + MAX_HEADER_BYTES + " bytes.");
            }
            response = route(request);
        } catch (ApiException e) {
            code = e.code();
            response = Response.error(e);
        } catch (StoreUnavailableException e) {
            code = "unavailable";
            Log.warn("store_unavailable", requestId, "route", request.routeKey(), "cause", rootCause(e));
            response = Response.error(ApiException.unavailable("The service is briefly unavailable; retry the same request."));
        } catch (RuntimeException e) {
            code = "internal";
            Log.error("unhandled", requestId, "route", request.routeKey(), "cause", rootCause(e));
            response = Response.error(new ApiException(500, "internal", "Something went wrong on our side; it has been logged."));
        } finally {
            dev.credits.core.store.Deadline.clear();
        }
        Log.info("request", requestId, "route", request.routeKey(), "status", response.getStatusCode(),
                "code", code, "account", safeAccount(request), "durationMs", (System.nanoTime() - start) / 1_000_000);
        return response;
    }

    /** API Gateway's own limit for an HTTP API's request line and headers; kept here too, behind any entry. */
    public static final int MAX_HEADER_BYTES = 10_240;

    private static long headerBytes(APIGatewayV2HTTPEvent event) {
        long n = 0;
        if (event.getHeaders() != null) {
            for (var e : event.getHeaders().entrySet()) {
                n += (e.getKey() == null ? 0 : e.getKey().length()) + (e.getValue() == null ? 0 : e.getValue().length()) + 4;
            }
        }
        if (event.getCookies() != null) for (String c : event.getCookies()) n += c == null ? 0 : c.length() + 2;
        return n;
    }

    private static String safeAccount(Request r) {
        String id = r.pathParam("id");
        return dev.credits.core.domain.AccountId.isValid(id) ? id : null;
    }

    private static String rootCause(Throwable t) {
        Throwable c = t;
        while (c.getCause() != null && c.getCause() != c) c = c.getCause();
        // the class and the first line of the message only: never a body or a token
        String m = c.getMessage() == null ? "" : c.getMessage().lines().findFirst().orElse("");
        return c.getClass().getName() + (m.isEmpty() ? "" : ": " + (m.length() > 160 ? m.substring(0, 160) : m));
    }

    protected static ApiException noRoute(Request r) {
        return new ApiException(404, "not_found", "No route " + r.routeKey() + ".");
    }
}
