// cpp_quickstart.cpp — signopt from C++: the C headers as they are (extern "C"), RAII for its handles, and a
// model written as a C++ class handed to signopt through the oracle callbacks. Lion on one worker, then
// mv-signsgd over 6 in-process workers with one of them flipping its signs (Byzantine). Build after `make`:
//   g++ -std=c++17 -Iinclude examples/cpp_quickstart.cpp -Lbuild -lsignopt -Wl,-rpath,$PWD/build -o cpp_quickstart
#include <cmath>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <vector>
#include "signopt.h"

namespace {

// Owning handles: each signopt object with the function that frees it.
struct ProblemDel { void operator()(so_problem *p) const { so_problem_destroy(p); } };
struct TransportDel { void operator()(so_transport *t) const { so_transport_destroy(t); } };
using Problem = std::unique_ptr<so_problem, ProblemDel>;
using Transport = std::unique_ptr<so_transport, TransportDel>;

void check(int rc)
{
    if (rc != SO_OK) throw std::runtime_error(so_errmsg());
}

// A model: robust regression with the Huber loss on a fixed design, each worker holding its own block of rows.
class Huber {
public:
    Huber(int workers, int dim) : workers_(workers), dim_(dim), a_(size_t(workers) * rows * dim), b_(workers * rows)
    {
        so_rng r;
        so_rng_init(&r, 11, 0, 0, SO_STREAM_USER + 1);
        for (auto &v : a_) v = float(so_rng_normal(&r));
        for (size_t i = 0; i < b_.size(); i++) {
            double t = 0;
            for (int c = 0; c < dim_; c++) t += a_[i * dim_ + c] * std::sin(0.3 * c);
            b_[i] = float(t + (i % 17 == 0 ? 20.0 : 0.1 * so_rng_normal(&r))); // a few outliers
        }
    }
    // The mean Huber loss over a minibatch of `batch` rows of one worker; g gets its gradient.
    double grad(const float *x, float *g, const so_grad_request &q) const
    {
        so_rng r;
        so_grad_rng(&r, &q, SO_STREAM_USER);
        std::fill(g, g + dim_, 0.0f);
        double loss = 0;
        for (int k = 0; k < batch; k++) {
            size_t i = size_t(q.worker) * rows + so_rng_below(&r, rows);
            float z = -b_[i];
            for (int c = 0; c < dim_; c++) z += a_[i * dim_ + c] * x[c];
            float dz = std::fabs(z) <= 1 ? z : (z > 0 ? 1.0f : -1.0f);
            loss += std::fabs(z) <= 1 ? 0.5 * z * z : std::fabs(z) - 0.5;
            for (int c = 0; c < dim_; c++) g[c] += dz * a_[i * dim_ + c] / batch;
        }
        return loss / batch;
    }
    double full(const float *x) const
    {
        double s = 0;
        for (size_t i = 0; i < b_.size(); i++) {
            double z = -b_[i];
            for (int c = 0; c < dim_; c++) z += a_[i * dim_ + c] * x[c];
            s += std::fabs(z) <= 1 ? 0.5 * z * z : std::fabs(z) - 0.5;
        }
        return s / b_.size();
    }
    // The problem signopt sees: callbacks that forward to this object (which must outlive the problem).
    Problem problem(uint64_t seed)
    {
        static const so_oracle ops = [] {
            so_oracle o{};
            o.grad = [](void *ctx, void *, const float *x, float *g, const so_grad_request *q, double *loss) {
                *loss = static_cast<const Huber *>(ctx)->grad(x, g, *q);
                return int(SO_OK);
            };
            o.objective = [](void *ctx, const float *x, double *f, float *) {
                *f = static_cast<const Huber *>(ctx)->full(x);
                return int(SO_OK);
            };
            return o;
        }();
        so_oracle_info info{};
        info.id = "huber";
        info.dim = size_t(dim_);
        info.workers = workers_;
        info.batch = batch;
        info.seed = seed;
        so_problem *p = so_problem_create_oracle(&ops, this, &info); // objective_grad 0: f only
        if (!p) throw std::runtime_error(so_errmsg());
        return Problem(p);
    }

private:
    static constexpr int rows = 200, batch = 10;
    int workers_, dim_;
    std::vector<float> a_, b_;
};

double run(so_problem *p, so_transport *t, const so_run_config &rc)
{
    so_run_result res{};
    check(so_run(&rc, p, t, nullptr, nullptr, nullptr, nullptr, &res));
    return res.final.loss;
}

} // namespace

int main()
{
    try {
        const int dim = 50;
        so_run_config rc;
        so_run_config_default(&rc);
        rc.steps = 300;

        Huber one(1, dim);
        Problem p1 = one.problem(1);
        std::vector<float> x0(dim, 0.0f);
        double f0 = one.full(x0.data());
        rc.method.optim.algo = "lion";
        rc.method.optim.lr = 3e-3;
        double lion = run(p1.get(), nullptr, rc);

        Huber six(6, dim);
        Problem p6 = six.problem(1);
        Transport t(so_transport_local(6));
        rc.method.optim.algo = "mv-signsgd";
        rc.method.byzantine = 1; // the last worker sends the opposite of every sign
        double vote = run(p6.get(), t.get(), rc);

        std::printf("huber loss: start %.4f, lion %.4f, mv-signsgd with 1 of 6 workers flipping %.4f\n", f0, lion,
                    vote);
        return lion < f0 && vote < f0 ? 0 : 1;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "cpp_quickstart: %s\n", e.what());
        return 1;
    }
}
