"""Files derived from a source of truth stay in step with it: values.yaml -> schema and README table,
tools/k8s/dashboards.py -> charts/zkpot/dashboards/*.json."""

import json

import yaml

from tools.k8s import dashboards, values_meta

from .chart import CHART


def values_text() -> str:
    return (CHART / "values.yaml").read_text()


def test_every_value_is_documented() -> None:
    text = values_text()
    documented = {e.path for e in values_meta.documented(text)}
    assert values_meta.undocumented(yaml.safe_load(text), documented) == []


def test_schema_is_up_to_date() -> None:
    committed = json.loads((CHART / "values.schema.json").read_text())
    assert committed == values_meta.schema(values_text()), "run: python tools/k8s/values_meta.py"


def test_readme_table_is_up_to_date() -> None:
    readme = (CHART / "README.md").read_text()
    assert readme == values_meta.render_readme(readme, values_text()), "run: python tools/k8s/values_meta.py"


def test_schema_closes_every_mapping() -> None:
    def walk(node: dict, path: str) -> list[str]:
        open_ = [path] if node.get("type") == "object" and "additionalProperties" not in node else []
        return open_ + [p for k, sub in node.get("properties", {}).items() for p in walk(sub, f"{path}.{k}")]

    assert walk(json.loads((CHART / "values.schema.json").read_text()), "") == []


def test_dashboards_are_up_to_date(tmp_path) -> None:
    for path in dashboards.write(tmp_path):
        assert (CHART / "dashboards" / path.name).read_text() == path.read_text(), "run: python tools/k8s/dashboards.py"
    assert sorted(p.name for p in (CHART / "dashboards").glob("*.json")) == sorted(p.name for p in tmp_path.iterdir())
