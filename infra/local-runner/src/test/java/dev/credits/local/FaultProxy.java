package dev.credits.local;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * An HTTP/1.1 proxy on the wire between a function's SDK client and an emulator (the moto DynamoDB stand-in, moto server,
 * stripe-mock) that injects the faults the emulators never produce, so the real clients' retries, timeouts and
 * error parsing are what the tests exercise. Faults are armed by count on requests matching a rule (operation and
 * a string in the body, e.g. the test's account id), never at random, so each run injects the same faults.
 *
 * <p>Each request that passes goes to the upstream on its own connection ({@code Connection: close}), and the
 * client's connection is closed after the answer; clients simply reconnect.
 */
final class FaultProxy implements AutoCloseable {

    /** The kinds of fault; "after" ones let the request reach the upstream (and commit) before failing the caller. */
    enum Fault {
        /** The service's throttling error (DynamoDB ProvisionedThroughputExceeded, SNS Throttling, Stripe 429). */
        THROTTLE,
        /** DynamoDB ThrottlingException (the control-plane/on-demand variant), the same for the others as THROTTLE. */
        THROTTLE_RATE,
        /** HTTP 500 in the service's own error format. */
        HTTP_500,
        /** TCP reset before the request reaches the upstream. */
        RESET_BEFORE,
        /** TCP reset after the upstream answered (the write committed). */
        RESET_AFTER,
        /** No answer at all; the client's own timeout ends the attempt. The request never reaches the upstream. */
        TIMEOUT_BEFORE,
        /** The upstream answered (the write committed), the answer is never relayed; the client times out. */
        TIMEOUT_AFTER;

        String wire() { return name().toLowerCase(Locale.ROOT); }
    }

    enum Protocol { DYNAMODB, SNS, STRIPE }

    /** One request as the proxy read it. */
    record Req(String method, String path, Map<String, String> headers, byte[] body) {
        /** DynamoDB's X-Amz-Target operation, SNS's Action, or "METHOD /path" for Stripe. */
        String operation() {
            String target = headers.get("x-amz-target");
            if (target != null) return target.substring(target.indexOf('.') + 1);
            String b = text();
            int a = b.indexOf("Action=");
            if (a >= 0) {
                int end = b.indexOf('&', a);
                return b.substring(a + 7, end < 0 ? b.length() : end);
            }
            int q = path.indexOf('?');
            return method + " " + (q < 0 ? path : path.substring(0, q));
        }

        String text() { return new String(body, StandardCharsets.UTF_8); }
    }

    /** An armed fault: {@link #used()} says how many requests it failed. */
    record Rule(String operation, String bodyContains, Fault fault, int times, AtomicInteger remaining) {
        int used() { return times - remaining.get(); }

        boolean matches(Req r) {
            return (operation == null || operation.equals(r.operation()))
                    && (bodyContains == null || r.text().contains(bodyContains) || r.path().contains(bodyContains));
        }
    }

    /** Faults injected by every proxy of this JVM, "target fault" -> count: the summary the test prints. */
    static final Map<String, AtomicInteger> INJECTED = new ConcurrentHashMap<>();

    private final String name;
    private final Protocol protocol;
    private final String upstreamHost;
    private final int upstreamPort;
    private final ServerSocket server;
    private final ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
    private final List<Rule> rules = new CopyOnWriteArrayList<>();
    /** Requests that reached the upstream, in order. */
    private final List<Req> forwarded = Collections.synchronizedList(new ArrayList<>());
    private final List<Socket> open = new CopyOnWriteArrayList<>();
    private volatile boolean closed;

    FaultProxy(String name, Protocol protocol, String upstream) {
        this.name = name;
        this.protocol = protocol;
        URI u = URI.create(upstream);
        this.upstreamHost = u.getHost();
        this.upstreamPort = u.getPort();
        try {
            this.server = new ServerSocket(0, 128, InetAddress.getLoopbackAddress());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        Thread.ofPlatform().daemon().name("fault-proxy-" + name).start(this::accept);
    }

    String summaryName() { return name; }

    String endpoint() { return "http://127.0.0.1:" + server.getLocalPort(); }

    /** Arms a fault for the next {@code times} requests of this operation (null: any) whose body contains the string. */
    Rule inject(Fault fault, int times, String operation, String bodyContains) {
        Rule r = new Rule(operation, bodyContains, fault, times, new AtomicInteger(times));
        rules.add(r);
        return r;
    }

    /** Disarms this fault (whatever it has not used yet). */
    void clear(Rule r) { rules.remove(r); }

    /** Requests of this operation that reached the upstream and whose body contains the string. */
    List<Req> forwarded(String operation, String bodyContains) {
        synchronized (forwarded) {
            return forwarded.stream().filter(r -> new Rule(operation, bodyContains, null, 0, null).matches(r)).toList();
        }
    }

    static String summary() {
        Map<String, Integer> sorted = new TreeMap<>();
        INJECTED.forEach((k, v) -> sorted.put(k, v.get()));
        return sorted.toString();
    }

    static int injectedTotal() { return INJECTED.values().stream().mapToInt(AtomicInteger::get).sum(); }

    private void accept() {
        while (!closed) {
            try {
                Socket s = server.accept();
                open.add(s);
                pool.submit(() -> serve(s));
            } catch (IOException e) {
                if (!closed) throw new IllegalStateException("fault proxy " + name + " stopped accepting", e);
            }
        }
    }

    private Fault take(Req r) {
        for (Rule rule : rules) {
            if (rule.matches(r) && rule.remaining().getAndUpdate(n -> n > 0 ? n - 1 : 0) > 0) {
                INJECTED.computeIfAbsent(name + " " + rule.fault().wire(), k -> new AtomicInteger()).incrementAndGet();
                return rule.fault();
            }
        }
        return null;
    }

    private void serve(Socket client) {
        try (client) {
            client.setSoTimeout(30_000);
            InputStream in = client.getInputStream();
            OutputStream out = client.getOutputStream();
            Req req = read(in);
            if (req == null) return;
            Fault f = take(req);
            if (f == null) {
                out.write(forward(req));
                out.flush();
                return;
            }
            switch (f) {
                case THROTTLE, THROTTLE_RATE, HTTP_500 -> { out.write(canned(f)); out.flush(); }
                case RESET_BEFORE -> reset(client);
                case RESET_AFTER -> { forward(req); reset(client); }
                case TIMEOUT_BEFORE -> hang(in);
                case TIMEOUT_AFTER -> { forward(req); hang(in); }
            }
        } catch (IOException e) {
            // the client went away (it timed out, or the test closed the proxy)
        } finally {
            open.remove(client);
        }
    }

    /** Waits until the client gives up and closes its end (its timeout), or 30 seconds. */
    private static void hang(InputStream in) throws IOException {
        try {
            while (in.read() >= 0) { /* discard */ }
        } catch (SocketTimeoutException ignored) {
            // the client never gave up: close anyway
        }
    }

    /** RST instead of FIN: the client sees "connection reset". */
    private static void reset(Socket s) throws IOException {
        s.setSoLinger(true, 0);
        s.close();
    }

    private byte[] forward(Req req) throws IOException {
        forwarded.add(req);
        try (Socket up = new Socket()) {
            up.connect(new InetSocketAddress(upstreamHost, upstreamPort), 5_000);
            up.setSoTimeout(30_000);
            StringBuilder head = new StringBuilder(req.method()).append(' ').append(req.path()).append(" HTTP/1.1\r\n");
            req.headers().forEach((k, v) -> {
                if (!k.equals("connection") && !k.equals("keep-alive")) head.append(k).append(": ").append(v).append("\r\n");
            });
            head.append("connection: close\r\n\r\n");
            OutputStream o = up.getOutputStream();
            o.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
            o.write(req.body());
            o.flush();
            return readResponse(up.getInputStream());
        }
    }

    /** The upstream's whole answer, rewritten to close the client's connection after it. */
    private static byte[] readResponse(InputStream in) throws IOException {
        String status = line(in);
        if (status == null) throw new IOException("upstream closed without answering");
        Map<String, String> headers = headers(in);
        byte[] body;
        if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
            body = dechunk(in);
            headers.remove("transfer-encoding");
        } else if (headers.containsKey("content-length")) {
            body = in.readNBytes(Integer.parseInt(headers.get("content-length")));
        } else {
            body = in.readAllBytes();
        }
        headers.put("content-length", Integer.toString(body.length));
        headers.put("connection", "close");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StringBuilder head = new StringBuilder(status).append("\r\n");
        headers.forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
        head.append("\r\n");
        out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
        out.write(body);
        return out.toByteArray();
    }

    /** Header lines up to the blank line, names lower-cased. */
    private static Map<String, String> headers(InputStream in) throws IOException {
        Map<String, String> headers = new LinkedHashMap<>();
        for (String l; (l = line(in)) != null && !l.isEmpty(); ) {
            int c = l.indexOf(':');
            headers.put(l.substring(0, c).trim().toLowerCase(Locale.ROOT), l.substring(c + 1).trim());
        }
        return headers;
    }

    private static byte[] dechunk(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (;;) {
            String size = line(in);
            if (size == null) throw new IOException("truncated chunked body");
            int n = Integer.parseInt(size.split(";")[0].trim(), 16);
            if (n == 0) {
                while (true) { String t = line(in); if (t == null || t.isEmpty()) break; }
                return out.toByteArray();
            }
            out.write(in.readNBytes(n));
            line(in);
        }
    }

    /** Reads one request (null when the client closed first). Bodies come with a Content-Length or chunked. */
    private static Req read(InputStream in) throws IOException {
        String first = line(in);
        if (first == null || first.isEmpty()) return null;
        String[] parts = first.split(" ");
        Map<String, String> headers = headers(in);
        byte[] body;
        if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
            body = dechunk(in);
            headers.remove("transfer-encoding");
            headers.put("content-length", Integer.toString(body.length));
        } else {
            String len = headers.get("content-length");
            body = len == null ? new byte[0] : in.readNBytes(Integer.parseInt(len));
        }
        return new Req(parts[0], parts[1], headers, body);
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int c; (c = in.read()) >= 0; ) {
            if (c == '\n') {
                byte[] bytes = b.toByteArray();
                int len = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
                return new String(bytes, 0, len, StandardCharsets.ISO_8859_1);
            }
            b.write(c);
        }
        return b.size() == 0 ? null : b.toString(StandardCharsets.ISO_8859_1);
    }

    /** The error each service really sends for this fault, so the client parses it as it would in production. */
    private byte[] canned(Fault f) {
        int status;
        String type;
        String body;
        Map<String, String> extra = new LinkedHashMap<>();
        boolean throttle = f != Fault.HTTP_500;
        switch (protocol) {
            case DYNAMODB -> {
                type = "application/x-amz-json-1.0";
                status = throttle ? 400 : 500;
                String code = switch (f) {
                    case THROTTLE -> "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException";
                    case THROTTLE_RATE -> "com.amazon.coral.availability#ThrottlingException";
                    default -> "com.amazonaws.dynamodb.v20120810#InternalServerError";
                };
                body = "{\"__type\":\"" + code + "\",\"message\":\"injected by the test's fault proxy\"}";
                extra.put("x-amzn-requestid", "fault-" + System.nanoTime());
            }
            case SNS -> {
                type = "text/xml";
                status = throttle ? 400 : 500;
                body = "<ErrorResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><Error><Type>"
                        + (throttle ? "Sender" : "Receiver") + "</Type><Code>" + (throttle ? "Throttling" : "InternalFailure")
                        + "</Code><Message>injected by the test's fault proxy</Message></Error><RequestId>fault-"
                        + System.nanoTime() + "</RequestId></ErrorResponse>";
            }
            default -> {
                type = "application/json";
                status = throttle ? 429 : 500;
                body = "{\"error\":{\"type\":\"" + (throttle ? "invalid_request_error" : "api_error") + "\",\"code\":\""
                        + (throttle ? "rate_limit" : "") + "\",\"message\":\"injected by the test's fault proxy\"}}";
                extra.put("request-id", "req_fault" + System.nanoTime());
            }
        }
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        StringBuilder head = new StringBuilder("HTTP/1.1 ").append(status).append(status == 500 ? " Internal Server Error" : status == 429 ? " Too Many Requests" : " Bad Request")
                .append("\r\ncontent-type: ").append(type).append("\r\ncontent-length: ").append(b.length).append("\r\nconnection: close\r\n");
        extra.forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
        head.append("\r\n");
        byte[] h = head.toString().getBytes(StandardCharsets.ISO_8859_1);
        byte[] all = new byte[h.length + b.length];
        System.arraycopy(h, 0, all, 0, h.length);
        System.arraycopy(b, 0, all, h.length, b.length);
        return all;
    }

    @Override
    public void close() {
        closed = true;
        try { server.close(); } catch (IOException ignored) { /* closing */ }
        for (Socket s : open) try { s.close(); } catch (IOException ignored) { /* closing */ }
        pool.shutdownNow();
    }
}
