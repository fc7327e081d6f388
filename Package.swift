// swift-tools-version:6.1
import PackageDescription

// Dependencies point inward: GeoRepCore is pure; adapters (AMQP, Postgres, Gluster) import the
// core at most; services compose adapters (Worker: AMQP + Gluster, Persister: AMQP + Postgres);
// only the `georep` executable wires everything.
let package = Package(
    name: "georep",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "georep", targets: ["georep"]),
        .executable(name: "georep-bench", targets: ["georep-bench"]),
        .library(name: "GeoRepCore", targets: ["GeoRepCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        // Hummingbird's own transport, named for ServiceHTTP's handler that sees HTTP versions.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.65.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.20.0"),
    ],
    targets: [
        // Pure domain: statuses, rules, messages, validation. Foundation only, no I/O.
        .target(name: "GeoRepCore"),

        // RabbitMQ through librabbitmq.
        .systemLibrary(
            name: "CRabbitMQ",
            pkgConfig: "librabbitmq",
            providers: [.apt(["librabbitmq-dev"])]
        ),
        .target(name: "CRabbitMQShim", dependencies: ["CRabbitMQ"]),
        .target(
            name: "AMQP",
            dependencies: [
                "GeoRepCore", "CRabbitMQ", "CRabbitMQShim",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // PostgreSQL through libpq.
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        .target(
            name: "Postgres",
            dependencies: ["GeoRepCore", "CLibPQ", .product(name: "Logging", package: "swift-log")]
        ),

        // The gluster CLI: argument vectors, local or over ssh, and its XML.
        .target(name: "CSpawnShim"),
        .target(
            name: "Gluster",
            dependencies: ["GeoRepCore", "CSpawnShim", .product(name: "Logging", package: "swift-log")]
        ),

        // What every process reports about itself: readiness and metrics (swift-metrics API only).
        .target(
            name: "Observability",
            dependencies: [.product(name: "Metrics", package: "swift-metrics"), .product(name: "Logging", package: "swift-log")]
        ),

        // The HTTP side every process has: /health/live, /health/ready, /metrics (Prometheus).
        .target(
            name: "ServiceHTTP",
            dependencies: [
                "Observability",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // Services.
        .target(
            name: "Worker",
            dependencies: [
                "GeoRepCore", "AMQP", "Gluster", "Observability",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "Persister",
            dependencies: [
                "GeoRepCore", "AMQP", "Postgres", "Observability",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // The HTTP API: PostgreSQL reads, commands out through RabbitMQ.
        .target(
            name: "API",
            dependencies: [
                "GeoRepCore", "AMQP", "Postgres", "Observability",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // The one executable that wires them.
        .executableTarget(
            name: "georep",
            dependencies: [
                "GeoRepCore", "AMQP", "Postgres", "Gluster", "Worker", "Persister", "API", "Observability", "ServiceHTTP",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // Benchmarks that print figures against a baseline measured in the same run.
        .executableTarget(
            name: "georep-bench",
            dependencies: [
                "GeoRepCore", "Gluster", "AMQP", "Postgres", "Persister",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/Benchmarks"
        ),

        .testTarget(name: "GeoRepCoreTests", dependencies: ["GeoRepCore"]),
        // MultiNodeLab/: gluster's XML recorded on the multi-node lab, read from the source tree.
        .testTarget(name: "GlusterTests", dependencies: ["Gluster", "GeoRepCore"], exclude: ["MultiNodeLab"]),
        // The services' actors and decisions, and the API's rows and documents, with no RabbitMQ,
        // PostgreSQL or gluster.
        .testTarget(name: "ServiceUnitTests", dependencies: ["Worker", "Persister", "API", "Postgres", "Gluster", "GeoRepCore"]),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "GeoRepCore", "AMQP", "Postgres", "Gluster", "Worker", "Persister",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ]
)
