"""The reference error-budget gate's ErrorBudgetReleaseGate, verbatim, with a harness for the Go
differential test (gate_test.go).

Reads a JSON list of cases on stdin, each
  {"status": ..., "remaining_pct": ..., "burn_rate": ..., "release": {...}}
and prints a JSON list of evaluate_release results, one per case, in order.
"""

import json
import sys
from typing import Optional


class ErrorBudgetManager:
    """Stand-in: the gate only stores it."""


class ErrorBudgetMetrics:
    """The three figures evaluate_release reads, and to_dict."""

    def __init__(self, status, remaining_pct, burn_rate):
        self.status = status
        self.remaining_pct = remaining_pct
        self.burn_rate = burn_rate

    def to_dict(self):
        return {
            'status': self.status,
            'remaining_pct': self.remaining_pct,
            'burn_rate': self.burn_rate,
        }


# ---- verbatim from the reference error-budget gate ----
class ErrorBudgetReleaseGate:
    """
    Automated release gate based on error budget policy.
    """

    def __init__(
        self,
        manager: ErrorBudgetManager,
        policy_config: Optional[dict] = None
    ):
        """
        Initialize release gate.

        Args:
            manager: ErrorBudgetManager instance
            policy_config: Custom policy configuration
        """
        self.manager = manager
        self.policy = policy_config or self._default_policy()

    def _default_policy(self) -> dict:
        """Default error budget policy."""
        return {
            'gates': {
                'healthy': {
                    'min_budget_pct': 50,
                    'max_burn_rate': 1.5,
                    'allowed_risk_levels': ['low', 'medium', 'high']
                },
                'attention': {
                    'min_budget_pct': 25,
                    'max_burn_rate': 2.0,
                    'allowed_risk_levels': ['low', 'medium']
                },
                'warning': {
                    'min_budget_pct': 10,
                    'max_burn_rate': 3.0,
                    'allowed_risk_levels': ['low']
                },
                'critical': {
                    'min_budget_pct': 0,
                    'max_burn_rate': float('inf'),
                    'allowed_risk_levels': []
                },
                'exhausted': {
                    'min_budget_pct': 0,
                    'max_burn_rate': float('inf'),
                    'allowed_risk_levels': []
                }
            },
            'exceptions': {
                'critical_security_fix': True,
                'slo_improvement': True,
                'rollback': True
            }
        }

    def evaluate_release(
        self,
        metrics: ErrorBudgetMetrics,
        release_metadata: dict
    ) -> dict:
        """
        Evaluate if release should be allowed.

        Args:
            metrics: Current error budget metrics
            release_metadata: Release information
                {
                    'risk_level': 'low'|'medium'|'high',
                    'release_type': 'feature'|'bugfix'|'security'|'rollback',
                    'has_tests': bool,
                    'has_rollback_plan': bool
                }

        Returns:
            Evaluation result with decision
        """
        risk_level = release_metadata.get('risk_level', 'medium')
        release_type = release_metadata.get('release_type', 'feature')

        # Check for exceptions
        if self._is_exception_release(release_type):
            return {
                'approved': True,
                'reason': f'Exception: {release_type} releases always allowed',
                'conditions': ['Monitor closely', 'Have rollback ready']
            }

        # Check budget policy
        gate = self.policy['gates'][metrics.status]

        # Check if risk level is allowed
        if risk_level not in gate['allowed_risk_levels']:
            return {
                'approved': False,
                'reason': f'{risk_level.capitalize()} risk releases not allowed when budget status is {metrics.status}',
                'alternative': 'Defer until budget improves or reduce risk level',
                'metrics': metrics.to_dict()
            }

        # Check budget percentage
        if metrics.remaining_pct < gate['min_budget_pct']:
            return {
                'approved': False,
                'reason': f'Insufficient error budget: {metrics.remaining_pct:.1f}% < {gate["min_budget_pct"]}%',
                'alternative': 'Wait for budget to recover',
                'metrics': metrics.to_dict()
            }

        # Check burn rate
        if metrics.burn_rate > gate['max_burn_rate']:
            return {
                'approved': False,
                'reason': f'Burn rate too high: {metrics.burn_rate:.1f}x > {gate["max_burn_rate"]}x',
                'alternative': 'Reduce error rate before new releases',
                'metrics': metrics.to_dict()
            }

        # Additional checks
        conditions = []
        if not release_metadata.get('has_tests'):
            conditions.append('WARNING: No tests detected. Strongly recommend adding tests.')

        if not release_metadata.get('has_rollback_plan'):
            conditions.append('REQUIRED: Must have rollback plan documented')

        return {
            'approved': True,
            'reason': f'Budget policy allows {risk_level} risk releases when status is {metrics.status}',
            'conditions': conditions,
            'metrics': metrics.to_dict()
        }

    def _is_exception_release(self, release_type: str) -> bool:
        """Check if release type is an exception."""
        return self.policy['exceptions'].get(release_type, False)
# ---- end of the reference error-budget gate ----


def main():
    cases = json.load(sys.stdin)
    gate = ErrorBudgetReleaseGate(ErrorBudgetManager())
    results = []
    for case in cases:
        metrics = ErrorBudgetMetrics(
            case['status'],
            float(case['remaining_pct']),
            float(case['burn_rate']),
        )
        result = gate.evaluate_release(metrics, case['release'])
        result.pop('metrics', None)
        results.append(result)
    json.dump(results, sys.stdout)


if __name__ == '__main__':
    main()
