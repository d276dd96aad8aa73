package dev.credits.local;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import dev.credits.core.json.Json;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * API Gateway HTTP API 2.0 events as the local runner builds them (route key, path parameters, the JWT authorizer's
 * claims from a token the runner's {@link LocalJwt} verified), for tests that call a handler directly.
 */
final class ApiEvents {
    private ApiEvents() {}

    /** {@code route} is "METHOD /path/{param}"; values fill the parameters in order. */
    static APIGatewayV2HTTPEvent event(String route, List<String> values, String token, String body, Map<String, String> extraHeaders) {
        String method = route.substring(0, route.indexOf(' '));
        String template = route.substring(route.indexOf(' ') + 1);
        Map<String, String> params = new LinkedHashMap<>();
        Matcher m = Pattern.compile("\\{([^}/]+)}").matcher(template);
        StringBuilder path = new StringBuilder();
        int last = 0, i = 0;
        while (m.find()) {
            path.append(template, last, m.start()).append(values.get(i));
            params.put(m.group(1), values.get(i++));
            last = m.end();
        }
        path.append(template.substring(last));
        Map<String, String> headers = new LinkedHashMap<>();
        if (body != null) headers.put("content-type", "application/json");
        headers.putAll(extraHeaders);
        String requestId = UUID.randomUUID().toString();
        var http = APIGatewayV2HTTPEvent.RequestContext.Http.builder().withMethod(method).withPath(path.toString())
                .withProtocol("HTTP/1.1").withSourceIp("127.0.0.1").withUserAgent("fault-injection-test").build();
        var rc = APIGatewayV2HTTPEvent.RequestContext.builder().withAccountId("000000000000").withApiId("local")
                .withHttp(http).withRequestId(requestId).withRouteKey(route).withStage("$default")
                .withTimeEpoch(System.currentTimeMillis());
        if (token != null) {
            LocalJwt.Claims c = TestStack.runner().jwt().verify(token).orElseThrow();
            rc.withAuthorizer(APIGatewayV2HTTPEvent.RequestContext.Authorizer.builder()
                    .withJwt(APIGatewayV2HTTPEvent.RequestContext.Authorizer.JWT.builder()
                            .withClaims(c.claims()).withScopes(c.scopes().isEmpty() ? null : c.scopes()).build()).build());
        }
        return APIGatewayV2HTTPEvent.builder().withVersion("2.0").withRouteKey(route).withRawPath(path.toString())
                .withRawQueryString("").withHeaders(headers).withPathParameters(params.isEmpty() ? null : params)
                .withRequestContext(rc.build()).withBody(body).withIsBase64Encoded(false).build();
    }

    static Map<String, Object> body(APIGatewayV2HTTPResponse r) {
        try {
            return r.getBody() == null || r.getBody().isBlank() ? Map.of() : Json.parseObject(r.getBody());
        } catch (Json.MalformedJsonException e) {
            throw new AssertionError("not JSON: " + r.getBody(), e);
        }
    }
}
