"""The binder (hplint/analysis/binder.py): which bindings reach a program point."""

from __future__ import annotations

import textwrap
from pathlib import Path

import libcst as cst

from hplint.analysis.module import ModuleContext


def context(code: str) -> ModuleContext:
    text = textwrap.dedent(code)
    return ModuleContext(Path("m.py"), text, cst.parse_module(text), "m")


def at_call(ctx: ModuleContext, callee: str):
    """(owner, call node) of the first call of the bare name `callee`."""
    for site in ctx.calls:
        if isinstance(site.node.func, cst.Name) and site.node.func.value == callee:
            return (site.scope[-1] if site.scope else None), site.node
    raise AssertionError(callee)


def reaching(ctx: ModuleContext, name: str, callee: str) -> list:
    owner, call = at_call(ctx, callee)
    return [(b.kind, ctx.code(b.value) if b.value is not None else None)
            for b in ctx.binder.lookup(name, owner, call)[1]]


def test_both_branches_of_an_if_reach_and_an_unconditional_rebinding_kills_them():
    ctx = context("""
        def f(a):
            x = 1
            if a:
                x = 2
            elif b:
                x = 3
            use(x)
            x = 4
            last(x)
    """)
    assert sorted(reaching(ctx, "x", "use")) == [("assign", "1"), ("assign", "2"), ("assign", "3")]
    assert reaching(ctx, "x", "last") == [("assign", "4")]


def test_a_name_bound_on_one_branch_only_may_be_unbound():
    ctx = context("""
        def f(a):
            if a:
                y = 5
            use(y)
    """)
    assert sorted(reaching(ctx, "y", "use"), key=str) == [("assign", "5"), ("unbound", None)]


def test_loop_bodies_reach_their_own_next_iteration():
    ctx = context("""
        def f():
            z = 0
            for i in range(3):
                early(z)
                z = i
            after(z)
    """)
    assert sorted(reaching(ctx, "z", "early")) == [("assign", "0"), ("assign", "i")]
    assert sorted(reaching(ctx, "z", "after")) == [("assign", "0"), ("assign", "i")]
    assert reaching(ctx, "i", "early") == [("for", "range(3)")]


def test_try_handlers_with_walrus_and_match_bind():
    ctx = context("""
        def f(s):
            try:
                q = load()
            except OSError as e:
                q = None
            (w := 4)
            with open(p) as fh:
                pass
            match s:
                case {"lr": lr}:
                    pass
            use(q, w, fh, lr, e)
    """)
    assert sorted(reaching(ctx, "q", "use")) == [("assign", "None"), ("assign", "load()")]
    assert reaching(ctx, "w", "use") == [("walrus", "4")]
    assert reaching(ctx, "fh", "use") == [("with", "open(p)")]
    assert ("match", "s") in reaching(ctx, "lr", "use")
    assert ("except", "OSError") in reaching(ctx, "e", "use")


def test_unpacking_attribute_and_subscript_targets():
    ctx = context("""
        def f(thing):
            lo, hi = 1e-5, 1e-1
            a, b = thing()
            cfg.lr, cfg["eps"] = 0.1, 1e-8
            first, *rest = thing()
            use()
    """)
    scope = ctx.binder.scope(ctx.function_named("f"))
    assert [ctx.code(b.value) for b in scope.values("hi")] == ["1e-1"]
    (b_binding,) = scope.values("b")
    assert ctx.code(b_binding.value) == "thing()" and b_binding.index == 1
    assert [ctx.code(b.value) for b in scope.values("cfg.lr")] == ["0.1"]
    assert [ctx.code(b.value) for b in scope.values("cfg['eps']")] == ["1e-8"]
    assert scope.bindings["rest"][0].value is None


def test_parameters_enclosing_functions_module_and_global_declarations():
    ctx = context("""
        LR = 0.1
        def outer(n, k=3, *args, scale=2, **kw):
            step = 5
            def inner():
                use(step, LR, n, k, scale)
            def setter():
                global LR
                LR = 0.5
                put(LR)
    """)
    owner, call = at_call(ctx, "use")
    binder = ctx.binder
    assert binder.lookup("step", owner, call)[0] is ctx.function_named("outer")
    assert [b.kind for b in binder.lookup("n", owner, call)[1]] == ["param"]
    k = binder.lookup("k", owner, call)[1][0]
    assert k.kind == "param" and ctx.code(k.value) == "3" and k.index == 1
    assert binder.lookup("LR", owner, call)[0] is None  # the module's
    assert "LR" in binder.scope(None).bindings and len(binder.scope(None).bindings["LR"]) == 1
    setter_owner, put = at_call(ctx, "put")
    assert binder.lookup("LR", setter_owner, put)[0] is None  # `global LR`: the module's name


def test_methods_skip_their_class_body():
    ctx = context("""
        lr = 1.0
        class Net:
            lr = 0.5
            def configure(self):
                use(lr)
    """)
    assert reaching(ctx, "lr", "use") == [("assign", "1.0")]


def test_a_use_before_any_binding_reads_the_end_of_the_scope():
    # A search space at the top of a module, its bounds below: would raise at
    # run time in this order, so the file is not meant to run top to bottom.
    ctx = context("""
        space = {"lr": uniform(LO, HI)}
        LO, HI = 1e-4, 1e-1
    """)
    assert reaching(ctx, "LO", "uniform") == [("assign", "1e-4")]


def test_nested_loops_stay_linear():
    depth = 12
    lines = ["def f():", "    x = 0"]
    for level in range(depth):
        lines.append("    " * (level + 1) + f"for i{level} in range(2):")
    lines.append("    " * (depth + 1) + "use(x)")
    lines.append("    " * (depth + 1) + "x = x + 1")
    ctx = context("\n".join(lines) + "\n")
    assert sorted(reaching(ctx, "x", "use")) == [("assign", "0"), ("assign", "x + 1")]


def test_constants_are_read_at_the_program_point():
    ctx = context("""
        EPS = 1e-8
        def f(model, EPS2=1e-2):
            eps = 1e-3
            a = Adam(eps=eps)
            eps = 1e-4
            b = Adam(eps=eps)
            c = CONFIG
            d = Adam(eps=c["adam_eps"])
            e = Adam(eps=EPS2)
            if model:
                same = 1e-6
            else:
                same = 1e-6
            g = Adam(eps=same)
        CONFIG = {"adam_eps": 1e-2}
    """)
    calls = [site.node for site in ctx.calls if ctx.code(site.node.func) == "Adam"]
    values = [ctx.constants.value(call.args[0].value) for call in calls]
    assert values[:3] == [1e-3, 1e-4, 1e-2]
    assert repr(values[3]) == "UNKNOWN"  # a parameter: its callers decide
    assert values[4] == 1e-6


def test_config_objects_dataclass_fields_namespaces_and_typed_parameters():
    ctx = context("""
        from dataclasses import dataclass, field
        from types import SimpleNamespace

        @dataclass
        class Config:
            lr: float = 1e-3
            eps: float = 1e-3
            betas: tuple = field(default=(0.5, 0.99))

        class HParams:
            def __init__(self, eps=1e-4, batch_size=4096):
                self.eps = eps
                self.batch_size = batch_size

        def typed(model, cfg: Config):
            use(cfg.eps, cfg.betas)

        def built(model, star):
            c = Config(eps=1e-6)
            p = Config(1e-2, 1e-7)
            h = HParams(batch_size=64)
            ns = SimpleNamespace(eps=1e-2)
            o = SimpleNamespace()
            o.eps = 1e-5
            s = Config(**star)
            use2(c.eps, p.eps, h.eps, h.batch_size, ns.eps, Config.eps, o.eps, s.eps)
    """)
    def args(callee):
        (site,) = [s for s in ctx.calls if ctx.code(s.node.func) == callee]
        return [ctx.constants.value(a.value) for a in site.node.args]

    assert args("use") == [1e-3, (0.5, 0.99)]
    values = args("use2")
    assert values[:7] == [1e-6, 1e-7, 1e-4, 64, 1e-2, 1e-3, 1e-5]
    assert repr(values[7]) == "UNKNOWN"  # `**star` may override any field


def test_config_class_in_another_module(tmp_path):
    from hplint.config import Config
    from hplint.engine import Linter

    (tmp_path / "settings.py").write_text("class Settings:\n    adam_eps = 1e-3\n    batch_size = 8192\n")
    train = tmp_path / "train.py"
    train.write_text(
        "import torch\nfrom settings import Settings\n"
        "def main(model, ds):\n"
        "    s = Settings()\n"
        "    torch.optim.Adam(model.parameters(), eps=s.adam_eps)\n"
        "    torch.utils.data.DataLoader(ds, batch_size=Settings.batch_size)\n")
    codes = sorted(f.code for f in Linter(Config()).lint_file(train).findings)
    assert codes == ["HPL006", "HPL007"]


def test_parameters_take_the_value_every_call_in_the_file_passes():
    ctx = context("""
        import torch

        class GPT(torch.nn.Module):
            def configure_optimizers(self, weight_decay, learning_rate, betas, eps=1e-8):
                return torch.optim.AdamW(self.parameters(), lr=learning_rate, betas=betas, eps=eps)

        def make_loader(ds, bs):
            return torch.utils.data.DataLoader(ds, batch_size=bs)

        def disagree(x):
            return use(x)

        def starred(x):
            return use2(x)

        model = GPT()
        model.configure_optimizers(0.1, 3e-4, (0.9, 0.95))
        make_loader(ds, 4096)
        make_loader(ds, bs=4096)
        disagree(1)
        disagree(2)
        starred(*args)
    """)
    def args(callee):
        (site,) = [s for s in ctx.calls if ctx.code(s.node.func) == callee]
        return [ctx.constants.value(a.value) for a in site.node.args]

    assert args("torch.optim.AdamW")[1:] == [3e-4, (0.9, 0.95), 1e-8]  # eps: the default
    assert args("torch.utils.data.DataLoader")[1] == 4096
    assert repr(args("use")[0]) == "UNKNOWN"  # two callers, two values
    assert repr(args("use2")[0]) == "UNKNOWN"  # `*args`: any slot


def test_an_editor_session_reuses_the_bindings_of_an_unchanged_function():
    from hplint.analysis.incremental import NodeMemo

    text = "def f(a):\n    x = 1\n    return g(x)\n"
    tree = cst.parse_module(text)
    memo = NodeMemo()
    first = ModuleContext(Path("m.py"), text, tree, "m", memo=memo)
    fn = first.function_named("f")
    scope = first.binder.scope(fn)
    memo.advance()  # the next version of the document, with the same node for f
    again = ModuleContext(Path("m.py"), text, tree, "m", memo=memo)
    assert again.binder.scope(fn) is scope
    edited = cst.parse_module(text.replace("x = 1", "x = 2"))
    memo.advance()
    later = ModuleContext(Path("m.py"), text, edited, "m", memo=memo)
    assert later.binder.scope(later.function_named("f")) is not scope


def test_comparisons_and_short_circuits_evaluate():
    ctx = context("""
        MODE = "lstm"
        JK = None
        f(MODE == "lstm", MODE != "lstm", JK is None, JK is not None and JK != "last", 1 < 2 <= 2,
          MODE in ("cat", "max"), unknown or True, JK is not None and unknown, unknown == 1)
    """)
    _, call = at_call(ctx, "f")
    values = [ctx.constants.value(a.value) for a in call.args]
    assert values[:6] == [True, False, True, False, True, False]
    assert values[7] is False  # `None is not None and ...`: false whatever the right side
    assert repr(values[6]) == "UNKNOWN" and repr(values[8]) == "UNKNOWN"  # an unknown left side decides nothing
