"""signopt's Python optimizers: the NumPy level against rules written here in float64 from the equations of
docs/algorithms.md (stated tolerance), the torch classes against the NumPy level bit for bit (same kernels,
different plumbing), SGD/Adam/AdamW against torch.optim bit for bit, state_dict resume, lr_scheduler, param groups,
closure, and bad input raising the library's message."""
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import signopt
import signopt.torch as so

SHAPES = [(7, 3), (130,)]
STEPS = 6


def data(seed=0):
    rng = np.random.default_rng(seed)
    xs = [rng.uniform(-1, 1, s).astype(np.float32) for s in SHAPES]
    gs = [[rng.uniform(-1, 1, s).astype(np.float32) for s in SHAPES] for _ in range(STEPS)]
    return xs, gs


def sign(v):
    return np.sign(v)


def reference(algo, xs, gs, lr=0.01, beta=0.9, beta2=0.999, eps=1e-8, wd=0.0, first_grad=False):
    """The rules in float64 from their equations, per array (ef-signsgd: ||p||_1 / size per array; scaled-signsgd:
    ||g||_1 over all arrays)."""
    x = [a.astype(np.float64) for a in xs]
    st = [dict() for _ in x]
    for t, g_t in enumerate(gs):
        g = [a.astype(np.float64) for a in g_t]
        norm = sum(np.abs(a).sum() for a in g)
        for k in range(len(x)):
            s = st[k]
            if algo == "sgd":
                x[k] = x[k] * (1 - lr * wd) - lr * g[k]
            elif algo == "sgdm":
                gk = g[k] + wd * x[k]
                s["b"] = gk if t == 0 else beta * s["b"] + gk
                x[k] = x[k] - lr * s["b"]
            elif algo in ("adam", "adamw"):
                gk = g[k] + (wd * x[k] if algo == "adam" else 0)
                if algo == "adamw":
                    x[k] = x[k] * (1 - lr * wd)
                s["m"] = beta * s.get("m", 0) + (1 - beta) * gk
                s["v"] = beta2 * s.get("v", 0) + (1 - beta2) * gk * gk
                mh, vh = s["m"] / (1 - beta ** (t + 1)), s["v"] / (1 - beta2 ** (t + 1))
                x[k] = x[k] - lr * mh / (np.sqrt(vh) + eps)
            elif algo == "signsgd":
                x[k] = x[k] * (1 - lr * wd) - lr * sign(g[k])
            elif algo == "signum":
                s["m"] = g[k] if (t == 0 and first_grad) else beta * s.get("m", 0) + (1 - beta) * g[k]
                x[k] = x[k] * (1 - lr * wd) - lr * sign(s["m"])
            elif algo == "ef-signsgd":  # weight decay coupled into g (docs/algorithms.md)
                p = lr * (g[k] + wd * x[k]) + s.get("e", 0)
                delta = np.abs(p).sum() / p.size * sign(p)
                x[k] = x[k] - delta
                s["e"] = p - delta
            elif algo == "scaled-signsgd":
                x[k] = x[k] - lr * norm * sign(g[k])
            elif algo == "lion":
                c = beta * s.get("m", 0) + (1 - beta) * g[k]
                x[k] = x[k] * (1 - lr * wd) - lr * sign(c)
                s["m"] = beta2 * s.get("m", 0) + (1 - beta2) * g[k]
    return x


RULES = [("sgd", {}), ("sgdm", {}), ("adam", {"weight_decay": 0.01}), ("adamw", {"weight_decay": 0.05}),
         ("signsgd", {"weight_decay": 0.1}), ("signum", {}), ("signum", {"momentum_init": "first-grad"}),
         ("ef-signsgd", {}), ("ef-signsgd", {"weight_decay": 0.1}), ("scaled-signsgd", {"lr": 1e-4}),
         ("lion", {"beta2": 0.99, "weight_decay": 0.1})]


@pytest.mark.parametrize("algo,extra", RULES)
def test_numpy_optimizer_follows_the_equations(algo, extra):
    xs, gs = data()
    hyper = {"lr": 0.01, **extra}
    opt = signopt.Optimizer(xs, algo, **hyper)
    for g in gs:
        opt.step(g)
    ref = reference(algo, data()[0], gs, lr=hyper["lr"], wd=hyper.get("weight_decay", 0.0),
                    beta2=hyper.get("beta2", 0.999), first_grad=hyper.get("momentum_init") == "first-grad")
    for a, r in zip(xs, ref):
        np.testing.assert_allclose(a, r, rtol=2e-5, atol=2e-6, err_msg=f"{algo} {extra}")


def torch_params(xs):
    return [torch.nn.Parameter(torch.from_numpy(a.copy())) for a in xs]


def torch_steps(opt, params, gs):
    for g in gs:
        for p, gk in zip(params, g):
            p.grad = torch.from_numpy(gk.copy())
        opt.step()


CLASSES = [(lambda p: so.SGD(p, lr=0.01), "sgd", {"lr": 0.01}),
           (lambda p: so.SGD(p, lr=0.01, momentum=0.9, nesterov=True), "sgdm", {"lr": 0.01, "beta": 0.9,
                                                                              "nesterov": True}),
           (lambda p: so.Adam(p, lr=0.01, betas=(0.8, 0.99)), "adam", {"lr": 0.01, "beta": 0.8, "beta2": 0.99}),
           (lambda p: so.AdamW(p, lr=0.01), "adamw", {"lr": 0.01, "weight_decay": 0.01}),
           (lambda p: so.SignSGD(p, lr=0.01), "signsgd", {"lr": 0.01}),
           (lambda p: so.Signum(p, lr=0.01, momentum=0.5), "signum", {"lr": 0.01, "beta": 0.5}),
           (lambda p: so.SignumNesterov(p, lr=0.01, beta=0.5), "signum-nesterov", {"lr": 0.01, "beta": 0.5}),
           (lambda p: so.EFSignSGD(p, lr=0.01), "ef-signsgd", {"lr": 0.01}),
           (lambda p: so.ScaledSignSGD(p, lr=1e-4), "scaled-signsgd", {"lr": 1e-4}),
           (lambda p: so.Lion(p, lr=0.01, betas=(0.9, 0.99), weight_decay=0.1), "lion",
            {"lr": 0.01, "beta": 0.9, "beta2": 0.99, "weight_decay": 0.1})]


@pytest.mark.parametrize("make,algo,hyper", CLASSES)
def test_torch_class_equals_numpy_level_bitwise(make, algo, hyper):
    xs, gs = data(1)
    params = torch_params(xs)
    opt = make(params)
    ref = signopt.Optimizer([a.copy() for a in xs], algo, **hyper)
    for g in gs:
        for p, gk in zip(params, g):
            p.grad = torch.from_numpy(gk.copy())
        if algo == "signum-nesterov":
            # the class keeps y in the parameters; the NumPy level hands y out: the gradient is the same either way
            pass
        opt.step()
        ref.step(g)
    if algo == "signum-nesterov":
        opt.finalize()
    for p, a in zip(params, ref.params):
        assert torch.equal(p.detach(), torch.from_numpy(a)), f"{algo}: the torch class differs from the NumPy level"


def test_signum_nesterov_parameters_hold_the_gradient_point():
    xs, gs = data(2)
    params = torch_params(xs)
    opt = so.SignumNesterov(params, lr=0.05, beta=0.5)
    ref = signopt.Optimizer([a.copy() for a in xs], "signum-nesterov", lr=0.05, beta=0.5)
    for g in gs:
        y = ref.grad_point()
        want = y if y is not None else ref.params
        for p, w in zip(params, want):
            assert torch.equal(p.detach(), torch.from_numpy(w)), "the parameters are not at y"
        for p, gk in zip(params, g):
            p.grad = torch.from_numpy(gk.copy())
        opt.step()
        ref.step(g)


TORCH = [(lambda p: torch.optim.SGD(p, lr=0.01), lambda p: so.SGD(p, lr=0.01)),
         (lambda p: torch.optim.SGD(p, lr=0.01, weight_decay=0.1), lambda p: so.SGD(p, lr=0.01, weight_decay=0.1)),
         (lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9), lambda p: so.SGD(p, lr=0.01, momentum=0.9)),
         (lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9, nesterov=True, weight_decay=0.01),
          lambda p: so.SGD(p, lr=0.01, momentum=0.9, nesterov=True, weight_decay=0.01)),
         (lambda p: torch.optim.Adam(p, lr=0.01), lambda p: so.Adam(p, lr=0.01)),
         (lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=0.1), lambda p: so.Adam(p, lr=0.01, weight_decay=0.1)),
         (lambda p: torch.optim.AdamW(p, lr=0.01, betas=(0.8, 0.95)), lambda p: so.AdamW(p, lr=0.01, betas=(0.8, 0.95)))]


@pytest.mark.parametrize("theirs,ours", TORCH)
def test_against_torch_optim_bitwise(theirs, ours):
    xs, gs = data(3)
    pt, ps = torch_params(xs), torch_params(xs)
    a, b = theirs(pt), ours(ps)
    torch_steps(a, pt, gs)
    torch_steps(b, ps, gs)
    for p, q in zip(pt, ps):
        assert torch.equal(p.detach(), q.detach()), f"max diff {(p - q).abs().max().item():g}"


@pytest.mark.parametrize("make,algo,hyper", CLASSES)
def test_state_dict_resume_is_a_straight_run(make, algo, hyper, tmp_path):
    xs, gs = data(4)
    straight = torch_params(xs)
    opt = make(straight)
    torch_steps(opt, straight, gs)
    half = torch_params(xs)
    opt1 = make(half)
    torch_steps(opt1, half, gs[:3])
    torch.save({"opt": opt1.state_dict(), "params": [p.detach().clone() for p in half]}, tmp_path / "ckpt.pt")
    saved = torch.load(tmp_path / "ckpt.pt")
    resumed = [torch.nn.Parameter(t) for t in saved["params"]]
    opt2 = make(resumed)
    opt2.load_state_dict(saved["opt"])
    torch_steps(opt2, resumed, gs[3:])
    for p, q in zip(straight, resumed):
        assert torch.equal(p.detach(), q.detach()), f"{algo}: resumed run differs"


def test_numpy_state_dict_resume():
    xs, gs = data(5)
    a = signopt.Optimizer([x.copy() for x in xs], "adamw", lr=0.01, weight_decay=0.1)
    for g in gs:
        a.step(g)
    b_params = [x.copy() for x in xs]
    b = signopt.Optimizer(b_params, "adamw", lr=0.01, weight_decay=0.1)
    for g in gs[:2]:
        b.step(g)
    sd = b.state_dict()
    c = signopt.Optimizer(b_params, "adamw", lr=0.01, weight_decay=0.1)
    c.load_state_dict(sd)
    for g in gs[2:]:
        c.step(g)
    for p, q in zip(a.params, c.params):
        assert np.array_equal(p, q)


def test_lr_scheduler_and_param_groups_and_closure():
    xs, gs = data(6)
    params = torch_params(xs)
    opt = so.Signum([{"params": params[:1], "lr": 0.1}, {"params": params[1:]}], lr=0.01)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    refs = [signopt.Optimizer([xs[0].copy()], "signum", lr=0.1), signopt.Optimizer([xs[1].copy()], "signum", lr=0.01)]
    for t, g in enumerate(gs):
        for p, gk in zip(params, g):
            p.grad = torch.from_numpy(gk.copy())
        loss = opt.step(lambda: torch.tensor(1.5))
        assert loss.item() == 1.5
        refs[0].step([g[0]])
        refs[1].step([g[1]])
        sched.step()
        refs[0].lr = 0.1 * 0.5 ** ((t + 1) // 2)
        refs[1].lr = 0.01 * 0.5 ** ((t + 1) // 2)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5 ** 3)
    for p, r in zip(params, refs):
        assert torch.equal(p.detach(), torch.from_numpy(r.params[0]))


def test_internal_schedule():
    xs, gs = data(7)
    a = signopt.Optimizer([xs[0]], "signsgd", lr=0.1, schedule="cosine", total_steps=4)
    assert a.current_lr() == pytest.approx(0.1)
    a.step([gs[0][0]])
    assert a.current_lr() == pytest.approx(0.05 * (1 + np.cos(np.pi / 4)))


def test_bad_input_raises_the_library_message():
    p64 = torch.nn.Parameter(torch.zeros(3, dtype=torch.float64))
    with pytest.raises(TypeError, match="float32"):
        opt = so.Signum([p64])
        p64.grad = torch.zeros(3, dtype=torch.float64)
        opt.step()
    base = torch.zeros(4, 4)
    q = torch.nn.Parameter(base.t())  # not contiguous
    opt = so.Signum([q])
    q.grad = torch.zeros(4, 4).t()
    with pytest.raises(ValueError, match="contiguous"):
        opt.step()
    with pytest.raises(TypeError, match="unknown hyperparameter"):
        so.Optimizer([torch.nn.Parameter(torch.zeros(2))], "signum", momentum=0.9)
    with pytest.raises(ValueError, match=r"beta must lie in \[0, 1\)"):
        so.Signum([torch.nn.Parameter(torch.zeros(2))], beta=1.5)
    with pytest.raises(ValueError, match="unknown single-node algorithm"):
        signopt.Optimizer([np.zeros(2, np.float32)], "mv-signum")
    with pytest.raises(TypeError, match="float32"):
        signopt.Optimizer([np.zeros(2)], "signum")
    with pytest.raises(ValueError, match="C-contiguous"):
        signopt.Optimizer([np.zeros((4, 4), np.float32).T], "signum")
    opt = signopt.Optimizer([np.zeros(3, np.float32)], "signum")
    with pytest.raises(ValueError, match="shape"):
        opt.step([np.zeros(4, np.float32)])
    with pytest.raises(ValueError, match="schedule"):
        signopt.Optimizer([np.zeros(3, np.float32)], "signum", schedule="cosine")  # cosine needs total_steps
    with pytest.raises(ValueError, match="amsgrad"):
        so.Adam([torch.nn.Parameter(torch.zeros(2))], amsgrad=True)


def test_library_version_and_a_missing_library():
    assert signopt.library_version.startswith(signopt.__version__.rsplit(".", 1)[0])
    assert set(a["id"] for a in signopt.algos()) >= {"signum", "lion", "mv-signum", "mvsm-v2"}
    env = dict(os.environ, SIGNOPT_LIBRARY="/nonexistent/libsignopt.so")
    r = subprocess.run([sys.executable, "-c", "import signopt"], env=env, capture_output=True, text=True)
    assert r.returncode != 0 and "libsignopt.so not found" in r.stderr and "SIGNOPT_LIBRARY" in r.stderr
