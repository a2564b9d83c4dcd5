// Seed 002's metric declarations, transcribed exactly from ../shared/seeds/002_*.txt
// ("Prometheus Metrics Implementation"); tests/test_seed_rules.py holds the CEX example to them.
// In src/metrics/mod.rs

use prometheus::{register_histogram_vec, register_counter_vec, register_gauge_vec, HistogramVec, CounterVec, GaugeVec};
use lazy_static::lazy_static;

lazy_static! {
    // Order Execution Metrics
    pub static ref ORDER_EXECUTION_LATENCY: HistogramVec = register_histogram_vec!(
        "order_execution_latency_seconds",
        "Time taken from strategy signal to order submission",
        &["trading_pair", "order_type", "side"],
        vec![0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]
    ).unwrap();

    pub static ref ORDER_ROUND_TRIP_TIME: HistogramVec = register_histogram_vec!(
        "order_round_trip_time_seconds",
        "Time taken from order submission to execution confirmation",
        &["trading_pair", "order_type", "side"],
        vec![0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0]
    ).unwrap();

    // Market Data Metrics
    pub static ref MARKET_DATA_THROUGHPUT: CounterVec = register_counter_vec!(
        "market_data_updates_total",
        "Number of market data updates processed",
        &["trading_pair", "update_type"]
    ).unwrap();

    pub static ref MARKET_DATA_PROCESSING_TIME: HistogramVec = register_histogram_vec!(
        "market_data_processing_seconds",
        "Time taken to process market data updates",
        &["trading_pair", "update_type"],
        vec![0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1]
    ).unwrap();

    // Signal Generation Metrics
    pub static ref SIGNAL_GENERATION_TIME: HistogramVec = register_histogram_vec!(
        "signal_generation_seconds",
        "Time taken to generate trading signals",
        &["strategy", "trading_pair"],
        vec![0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0]
    ).unwrap();

    // Resource Usage Metrics
    pub static ref MEMORY_USAGE_BYTES: GaugeVec = register_gauge_vec!(
        "memory_usage_bytes",
        "Current memory usage in bytes",
        &["component"]
    ).unwrap();

    pub static ref CPU_USAGE_PERCENT: GaugeVec = register_gauge_vec!(
        "cpu_usage_percent",
        "Current CPU usage in percent",
        &["component"]
    ).unwrap();

    // GC Metrics
    pub static ref GC_PAUSE_SECONDS: HistogramVec = register_histogram_vec!(
        "gc_pause_seconds",
        "Duration of garbage collection pauses",
        &["gc_type"],
        vec![0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0]
    ).unwrap();

    // API Metrics
    pub static ref API_REQUEST_DURATION: HistogramVec = register_histogram_vec!(
        "api_request_duration_seconds",
        "Duration of API requests",
        &["endpoint", "method", "status"],
        vec![0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0]
    ).unwrap();

    pub static ref WEBSOCKET_MESSAGE_DURATION: HistogramVec = register_histogram_vec!(
        "websocket_message_duration_seconds",
        "Time taken to process WebSocket messages",
        &["message_type"],
        vec![0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5]
    ).unwrap();

    // Dashboard Metrics
    pub static ref DASHBOARD_RENDERING_TIME: HistogramVec = register_histogram_vec!(
        "dashboard_rendering_seconds",
        "Time taken to render dashboard components",
        &["component"],
        vec![0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0]
    ).unwrap();
}
