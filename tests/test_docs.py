"""The documentation: it builds without warnings, and the docstrings are complete.

The Sphinx build renders the example gallery without running the examples
(``plot_gallery=0``): ``test_examples.py`` runs each of them already.
"""

import inspect
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

import sk_dbn
from sk_dbn import DBNClassifier, StackedRBMTransformer, diagnostics, initializers

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _public_objects():
    """Every public class and function of sk_dbn, as (qualified name, object)."""
    for module in (sk_dbn, initializers, diagnostics):
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) or inspect.isfunction(obj):
                yield f"{module.__name__}.{name}", obj


def _section(doc, title):
    """The lines of a numpydoc section (without its header), or None."""
    lines = inspect.cleandoc(doc or "").splitlines()
    for i in range(len(lines) - 1):
        if lines[i].strip() == title and re.fullmatch(r"-{3,}", lines[i + 1].strip()):
            body = []
            for j in range(i + 2, len(lines)):
                if j + 1 < len(lines) and re.fullmatch(r"-{3,}", lines[j + 1].strip()):
                    break
                body.append(lines[j])
            return body
    return None


def _documented_attributes(cls):
    names = set()
    for line in _section(cls.__doc__, "Attributes") or []:
        if line and not line.startswith(" ") and " : " in line:
            names.update(n.strip() for n in line.split(" : ")[0].split(","))
    return names


def _fitted_attributes(estimator):
    """Public fitted attributes: those stored on the instance, and properties of
    its class that answer on it (a one-layer stack's ``components_``)."""
    names = {n for n in vars(estimator) if n.endswith("_") and not n.startswith("_")}
    properties = {n for cls in type(estimator).__mro__ for n, v in vars(cls).items()
                  if isinstance(v, property)}
    return names | {n for n in properties if n.endswith("_") and not
                    n.startswith("_") and hasattr(estimator, n)}


# ------------------------------------------------------------------- the build
@pytest.mark.slow
def test_docs_build_without_warnings(tmp_path):
    for module in ("sphinx", "numpydoc", "sphinx_gallery", "pydata_sphinx_theme",
                   "sphinx-mathjax-offline"):
        pytest.importorskip(module)
    # build a copy, so the source tree gets no generated files
    generated = ("_build", "auto_examples", "gen_modules", "sg_execution_times.rst")
    shutil.copytree(DOCS, tmp_path / "docs", ignore=shutil.ignore_patterns(*generated))
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-D", "plot_gallery=0", str(tmp_path / "docs"), str(tmp_path / "html")],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    html = tmp_path / "html"
    for page in ("index.html", "api.html", "auto_examples/index.html",
                 "user_guide/initializers.html", "user_guide/rbm.html"):
        assert (html / page).is_file(), page
    api = (html / "api.html").read_text(encoding="utf-8")
    for qualname, obj in _public_objects():
        # aliases (glorot_normal is xavier_normal) are documented by their target
        target = f"{qualname.rsplit('.', 1)[0]}.{obj.__name__}"
        assert f'id="{target}"' in api, f"{qualname} missing from the API page"
    # parameter types render as written ("int"), not as the intersphinx targets
    # numpydoc's default aliases point to ("python:int"), unresolved offline
    assert '<span class="pre">int</span>' in api
    assert "python:" not in api
    assert "numpy:" not in api
    _assert_maths_offline(html)


def _assert_maths_offline(html):
    """Every page with maths loads MathJax, and all its scripts, from the build."""
    math_pages = [page for page in html.rglob("*.html")
                  if 'class="math' in page.read_text(encoding="utf-8")]
    assert html / "user_guide" / "initializers.html" in math_pages
    for page in math_pages:
        text = page.read_text(encoding="utf-8")
        scripts = re.findall(r'<script[^>]*\bsrc="([^"]+)"', text)
        mathjax = [src for src in scripts if "mathjax" in src.lower()]
        assert mathjax, f"{page}: no MathJax script"
        for src in scripts:
            assert not re.match(r"(https?:)?//", src), f"{page} loads {src}"
        for src in mathjax:
            assert (page.parent / src.split("?")[0]).is_file(), f"{page}: {src}"


def test_every_example_is_in_the_gallery_source():
    examples = sorted(p.stem for p in (ROOT / "examples").glob("plot_*.py"))
    assert examples
    for stem in examples:
        text = (ROOT / "examples" / f"{stem}.py").read_text(encoding="utf-8")
        title = re.match(r'"""\n(=+)\n(.+)\n(=+)\n', text)
        assert title, f"{stem}: the docstring must open with an over/underlined title"
        assert len(title.group(1)) >= len(title.group(2)) <= len(title.group(3))


# ------------------------------------------------------------- the docstrings
def _rendered_docstrings():
    """``(where, docstring)`` of everything the API page renders: the public
    classes and functions, and the methods ``api.rst`` lists for each class."""
    api = (DOCS / "api.rst").read_text(encoding="utf-8")
    for qualname, obj in _public_objects():
        yield qualname, obj.__doc__
        if inspect.isclass(obj):
            block = re.search(rf"autoclass:: {obj.__name__}\n((?:   .*\n)+)", api)
            members = re.search(r":members:((?:.|\n)*)", block.group(1)) if block \
                else None
            for name in re.findall(r"\w+", members.group(1) if members else ""):
                yield f"{qualname}.{name}", getattr(obj, name).__doc__


@pytest.mark.parametrize("where, doc", list(_rendered_docstrings()),
                         ids=[w for w, _ in _rendered_docstrings()])
def test_rendered_docstrings_cite_only_public_names(where, doc):
    # a cross-reference to a private module or helper renders as a dead link
    public_modules = {m.__name__: m for m in (sk_dbn, initializers, diagnostics)}
    here = next(m for name, m in sorted(public_modules.items(), reverse=True)
                if where.startswith(name + "."))
    for role, target in re.findall(r":(func|class|meth|mod|data|attr):`([^`]+)`",
                                   doc or ""):
        target = target.lstrip("~").split("<")[-1].rstrip(">")
        if target.startswith(("sklearn.", "numpy.", "scipy.")):
            continue
        if role == "meth" and "." not in target:
            continue  # a method of the class itself
        if role == "mod":
            assert target in public_modules, (where, target)
            continue
        assert not any(p.startswith("_") for p in target.split(".")), (where,
                                                                       target)
        module, _, name = target.rpartition(".")
        owner = here if not module else public_modules.get(module)
        if owner is None and module.rpartition(".")[0] in public_modules:
            # a method or attribute of a public class: sk_dbn.DBNClassifier.fit
            cls = getattr(public_modules[module.rpartition(".")[0]],
                          module.rpartition(".")[2], None)
            assert inspect.isclass(cls) and hasattr(cls, name), (where, target)
            continue
        assert owner is not None, (where, role, target)
        assert name in owner.__all__, (where, role, target)


@pytest.mark.parametrize("qualname, obj", list(_public_objects()),
                         ids=[q for q, _ in _public_objects()])
def test_public_objects_have_examples(qualname, obj):
    examples = _section(obj.__doc__, "Examples")
    assert examples and any(">>>" in line for line in examples), (
        f"{qualname} needs a numpydoc Examples section with a doctest"
    )


@pytest.mark.parametrize("where, doc", list(_rendered_docstrings()),
                         ids=[w for w, _ in _rendered_docstrings()])
def test_examples_run_when_pasted(where, doc):
    """An Examples section defines or imports every name it uses: pytest runs
    doctests with the module's globals (numpy as np among them), which a user
    pasting the example into a fresh interpreter does not have."""
    import ast
    import builtins
    import doctest

    examples = doctest.DocTestParser().get_examples(doc or "")
    if not examples:
        return
    tree = ast.parse("\n".join(e.source for e in examples))
    defined = set(dir(builtins))
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            defined |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            defined.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.Lambda)):
            defined |= {a.arg for a in node.args.args + node.args.kwonlyargs}
            defined.add(getattr(node, "name", ""))
        elif isinstance(node, ast.comprehension):
            defined |= {n.id for n in ast.walk(node.target) if isinstance(n, ast.Name)}
    used = {n.id for n in ast.walk(tree)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    assert not used - defined, f"{where}: undefined when pasted: {used - defined}"


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:300] / 16, y[:300]


def _dbn_variants(digits):
    X, y = digits
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X, columns=[f"pixel{i}" for i in range(X.shape[1])])
    small = dict(max_iter=2, random_state=0)
    rbm = StackedRBMTransformer((8,), n_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield DBNClassifier((8,), init=rbm, **small).fit(frame, y)
        yield DBNClassifier((8, 4), init="lsuv", early_stopping=True,
                            **small).fit(X, y)
        yield DBNClassifier((8,), init="he_normal", **small).partial_fit(
            X, y, classes=np.unique(y))
        yield DBNClassifier((8,), init=rbm, **small).initialize(X, y)


def test_dbn_fitted_attributes_are_documented(digits):
    documented = _documented_attributes(DBNClassifier)
    seen = set()
    for clf in _dbn_variants(digits):
        seen |= _fitted_attributes(clf)
    assert {"coefs_", "pretrainer_", "feature_names_in_",
            "gradient_norms_"} <= seen
    assert not seen - documented, f"undocumented: {sorted(seen - documented)}"


def test_stacked_fitted_attributes_are_documented(digits):
    X, _ = digits
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X, columns=[f"pixel{i}" for i in range(X.shape[1])])
    documented = _documented_attributes(StackedRBMTransformer)
    seen = set()
    for est in (
        StackedRBMTransformer((8, 4), n_iter=1, random_state=0).fit(frame),
        StackedRBMTransformer((8,), n_iter=1, persistent=True, hidden_units="relu",
                              random_state=0).partial_fit(X * 3),
    ):
        seen |= _fitted_attributes(est)
    assert {"coefs_", "feature_names_in_", "components_"} <= seen
    assert not seen - documented, f"undocumented: {sorted(seen - documented)}"
