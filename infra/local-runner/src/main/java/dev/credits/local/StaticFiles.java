package dev.credits.local;

import com.sun.net.httpserver.HttpExchange;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Serves the built billing console (console/dist) on the API's origin, as CloudFront does deployed: files as they
 * are, and index.html for any other path (the single-page app routes itself).
 */
final class StaticFiles {
    private static final Map<String, String> TYPES = Map.of(
            "html", "text/html; charset=utf-8", "js", "text/javascript; charset=utf-8", "css", "text/css; charset=utf-8",
            "svg", "image/svg+xml", "png", "image/png", "json", "application/json", "ico", "image/x-icon",
            "woff2", "font/woff2", "map", "application/json", "txt", "text/plain; charset=utf-8");

    private final Path root;

    StaticFiles(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    boolean built() {
        return Files.isRegularFile(root.resolve("index.html"));
    }

    int serve(HttpExchange x, String rawPath, boolean head) throws IOException {
        if (!built()) {
            return send(x, 404, "text/html; charset=utf-8", ("<!doctype html><title>Billing console not built</title>"
                    + "<p>The billing console is not built. Run <code>make console</code> (or <code>make run</code>, which builds it when Node is present)."
                    + "<p>The API is at <code>/v1</code>.").getBytes(StandardCharsets.UTF_8), head, false);
        }
        String rel = java.net.URLDecoder.decode(rawPath, StandardCharsets.UTF_8);
        Path file = root.resolve(rel.startsWith("/") ? rel.substring(1) : rel).normalize();
        if (!file.startsWith(root) || !Files.isRegularFile(file)) file = root.resolve("index.html");
        String name = file.getFileName().toString();
        String ext = name.contains(".") ? name.substring(name.lastIndexOf('.') + 1) : "";
        boolean immutable = file.startsWith(root.resolve("assets"));
        return send(x, 200, TYPES.getOrDefault(ext, "application/octet-stream"), Files.readAllBytes(file), head, immutable);
    }

    private static int send(HttpExchange x, int status, String type, byte[] body, boolean head, boolean immutable) throws IOException {
        x.getResponseHeaders().add("content-type", type);
        x.getResponseHeaders().add("cache-control", immutable ? "public, max-age=31536000, immutable" : "no-cache");
        x.getResponseHeaders().add("x-content-type-options", "nosniff");
        x.getResponseHeaders().add("content-security-policy",
                "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'");
        if (head) {
            x.sendResponseHeaders(status, -1);
        } else {
            x.sendResponseHeaders(status, body.length);
            try (OutputStream os = x.getResponseBody()) { os.write(body); }
        }
        return status;
    }
}
