"""A real Prometheus (Debian's package) scraping a running library: `make monitor`, and the stack's monitoring test.

The repository's monitoring/prometheus.yml is the configuration for make run's default metrics ports; here it is
rewritten for the ports a system was given, with its rule files by absolute path.
"""

import os

import yaml

PROMETHEUS = os.environ.get("PROMETHEUS_PATH", "/usr/bin/prometheus")


def prometheus_config(template, ports, scrape_interval=None):
    """The configuration in `template` (a path), each job scraping 127.0.0.1 at its port in `ports` ({Procfile
    process: port}), as a dict; `scrape_interval` (e.g. "1s") for scrapes and rule evaluations alike."""
    config = yaml.safe_load(template.read_text())
    config["rule_files"] = [str(template.parent / pattern) for pattern in config["rule_files"]]
    if scrape_interval:
        config["global"].update(scrape_interval=scrape_interval, evaluation_interval=scrape_interval)
    for job in config["scrape_configs"]:
        for targets in job["static_configs"]:
            targets["targets"] = [f"127.0.0.1:{ports[job['job_name']]}"]
    return config


def write_prometheus_config(template, ports, directory, scrape_interval=None):
    """prometheus_config() written into `directory` (made if missing); its path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "prometheus.yml"
    path.write_text(yaml.safe_dump(prometheus_config(template, ports, scrape_interval), sort_keys=False))
    return path


def prometheus_command(config_path, data_path, listen_address):
    return [PROMETHEUS, f"--config.file={config_path}", f"--storage.tsdb.path={data_path}",
            f"--web.listen-address={listen_address}"]
