// One pass over memory per step for the Adam family (Adam, AMSGrad, RAdam, AdaBelief and their schedules).
//
// Python (`labml_nn/optimizers/fused.py`) works out every scalar of the step with the same hooks the readable
// path uses (the schedule's rate, the decay factor, the bias corrections, RAdam's r_t); this file only does the
// element-wise part, in the order of the readable path's tensor operations, so that the two agree to rounding:
//
//   g   <- sign * g                       (maximize)
//   th  <- th * param_scale               (decoupled decay; 1 without it)
//   g   <- g + l2 * th                    (L2 regularization; skipped when l2 == 0)
//   m   <- m * beta1 + (1 - beta1) * g
//   v   <- v * beta2 + (1 - beta2) * g * g                      (Adam)
//   v   <- v * beta2 + (1 - beta2) * (g - m) * (g - m) + eps_v  (AdaBelief)
//   v*  <- max(v*, v)                     (amsgrad; the update divides by v*)
//   th  <- th - step_size * m / (sqrt(v) / v_divisor + eps)     (adaptive)
//   th  <- th - step_size * m                                   (RAdam's SGD steps)
//
// Each element is read and written once; nothing is allocated. float16/bfloat16 parameters and gradients are
// computed in float32 against float32 state, as on the readable path.

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <cmath>
#include <vector>

namespace {

struct StepScalars {
  double grad_sign, param_scale, l2, beta1, beta2, eps_v, v_divisor, eps, step_size;
  bool belief, amsgrad, adaptive;
};

// `P` is the parameter's (and gradient's) type, `T` the type the math and the state use.
template <typename P, typename T, bool BELIEF, bool AMSGRAD>
void step_range(P* __restrict__ param, const P* __restrict__ grad, T* __restrict__ exp_avg,
                T* __restrict__ exp_avg_sq, T* __restrict__ max_exp_avg_sq, int64_t begin, int64_t end,
                const StepScalars& s) {
  const T grad_sign = s.grad_sign, param_scale = s.param_scale, l2 = s.l2;
  const T beta1 = s.beta1, one_minus_beta1 = 1. - s.beta1;
  const T beta2 = s.beta2, one_minus_beta2 = 1. - s.beta2, eps_v = s.eps_v;
  const T v_divisor = s.v_divisor, eps = s.eps, neg_step_size = -s.step_size;
  const bool use_l2 = s.l2 != 0., adaptive = s.adaptive;
  for (int64_t i = begin; i < end; ++i) {
    T g = static_cast<T>(grad[i]) * grad_sign;
    T theta = static_cast<T>(param[i]) * param_scale;
    if (use_l2) g = g + l2 * theta;
    T m = exp_avg[i] * beta1;
    m = m + one_minus_beta1 * g;
    exp_avg[i] = m;
    T v = exp_avg_sq[i] * beta2;
    if (BELIEF) {
      const T belief = g - m;
      v = v + one_minus_beta2 * belief * belief;
      v = v + eps_v;
    } else {
      v = v + one_minus_beta2 * g * g;
    }
    exp_avg_sq[i] = v;
    if (AMSGRAD) {
      // max that keeps a NaN from either side, as torch's clamp_min_ does
      const T v_max = max_exp_avg_sq[i];
      v = (v_max > v || std::isnan(v_max)) ? v_max : v;
      max_exp_avg_sq[i] = v;
    }
    if (adaptive) {
      const T denominator = std::sqrt(v) / v_divisor + eps;
      theta = theta + neg_step_size * m / denominator;
    } else {
      theta = theta + neg_step_size * m;
    }
    param[i] = static_cast<P>(theta);
  }
}

template <typename P, typename T>
void step_tensor(const at::Tensor& param, const at::Tensor& grad, const at::Tensor& exp_avg,
                 const at::Tensor& exp_avg_sq, const at::Tensor& max_exp_avg_sq, const StepScalars& s) {
  P* p = param.data_ptr<P>();
  const P* g = grad.data_ptr<P>();
  T* m = exp_avg.data_ptr<T>();
  T* v = exp_avg_sq.data_ptr<T>();
  T* v_max = s.amsgrad ? max_exp_avg_sq.data_ptr<T>() : nullptr;
  // Chunks large enough that a thread's share streams from memory; one thread runs it all inline
  at::parallel_for(0, param.numel(), 1 << 16, [&](int64_t begin, int64_t end) {
    if (s.belief) {
      if (s.amsgrad) step_range<P, T, true, true>(p, g, m, v, v_max, begin, end, s);
      else step_range<P, T, true, false>(p, g, m, v, v_max, begin, end, s);
    } else {
      if (s.amsgrad) step_range<P, T, false, true>(p, g, m, v, v_max, begin, end, s);
      else step_range<P, T, false, false>(p, g, m, v, v_max, begin, end, s);
    }
  });
}

void check_tensors(const at::Tensor& param, const at::Tensor& grad, const at::Tensor& exp_avg,
                   const at::Tensor& exp_avg_sq, const at::Tensor* max_exp_avg_sq, at::ScalarType state_type) {
  TORCH_CHECK(param.device().is_cpu(), "the fused Adam kernel runs on CPU tensors");
  TORCH_CHECK(param.is_contiguous() && grad.is_contiguous() && exp_avg.is_contiguous() &&
              exp_avg_sq.is_contiguous(), "the fused Adam kernel needs contiguous tensors");
  TORCH_CHECK(grad.scalar_type() == param.scalar_type(), "gradient and parameter types differ");
  TORCH_CHECK(grad.numel() == param.numel() && exp_avg.numel() == param.numel() &&
              exp_avg_sq.numel() == param.numel(), "state and parameter sizes differ");
  TORCH_CHECK(exp_avg.scalar_type() == state_type && exp_avg_sq.scalar_type() == state_type,
              "the state must be ", state_type);
  if (max_exp_avg_sq != nullptr) {
    TORCH_CHECK(max_exp_avg_sq->is_contiguous() && max_exp_avg_sq->numel() == param.numel() &&
                max_exp_avg_sq->scalar_type() == state_type, "the running maximum must match the state");
  }
}

void adam_step_(at::TensorList params, at::TensorList grads, at::TensorList exp_avgs, at::TensorList exp_avg_sqs,
                at::TensorList max_exp_avg_sqs, const at::Tensor& scalars, bool belief, bool amsgrad, bool adaptive) {
  const size_t n = params.size();
  TORCH_CHECK(grads.size() == n && exp_avgs.size() == n && exp_avg_sqs.size() == n,
              "params, grads and state lists differ in length");
  TORCH_CHECK(!amsgrad || max_exp_avg_sqs.size() == n, "amsgrad needs one running maximum per parameter");
  // The step's numbers come as one float64 tensor, so that `torch.compile` passes them as data and does not
  // compile a graph for each value
  TORCH_CHECK(scalars.device().is_cpu() && scalars.scalar_type() == at::kDouble && scalars.numel() == 9 &&
              scalars.is_contiguous(), "scalars must be 9 contiguous float64 numbers on the CPU");
  const double* x = scalars.data_ptr<double>();
  const StepScalars s{x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7], x[8], belief, amsgrad, adaptive};
  for (size_t i = 0; i < n; ++i) {
    const at::Tensor& param = params[i];
    const at::Tensor empty;
    const at::Tensor& v_max = amsgrad ? max_exp_avg_sqs[i] : empty;
    const auto type = param.scalar_type();
    const auto state_type = type == at::kDouble ? at::kDouble : at::kFloat;
    check_tensors(param, grads[i], exp_avgs[i], exp_avg_sqs[i], amsgrad ? &v_max : nullptr, state_type);
    switch (type) {
      case at::kFloat:
        step_tensor<float, float>(param, grads[i], exp_avgs[i], exp_avg_sqs[i], v_max, s);
        break;
      case at::kDouble:
        step_tensor<double, double>(param, grads[i], exp_avgs[i], exp_avg_sqs[i], v_max, s);
        break;
      case at::kHalf:
        step_tensor<at::Half, float>(param, grads[i], exp_avgs[i], exp_avg_sqs[i], v_max, s);
        break;
      case at::kBFloat16:
        step_tensor<at::BFloat16, float>(param, grads[i], exp_avgs[i], exp_avg_sqs[i], v_max, s);
        break;
      default:
        TORCH_CHECK(false, "the fused Adam kernel does not support ", type);
    }
  }
}

}  // namespace

TORCH_LIBRARY(labml_nn_optimizers, m) {
  // scalars: grad_sign, param_scale, l2, beta1, beta2, eps_v, v_divisor, eps, step_size
  m.def("adam_step_(Tensor(a!)[] params, Tensor[] grads, Tensor(b!)[] exp_avgs, Tensor(c!)[] exp_avg_sqs, "
        "Tensor(d!)[] max_exp_avg_sqs, Tensor scalars, bool belief, bool amsgrad, bool adaptive) -> ()");
}

TORCH_LIBRARY_IMPL(labml_nn_optimizers, CPU, m) {
  m.impl("adam_step_", &adam_step_);
}
