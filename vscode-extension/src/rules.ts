/** Rule codes offered by "hplint: Explain Rule…". `hplint rule <CODE>` is the source of truth. */

export interface RuleEntry {
    code: string;
    name: string;
}

export const RULES: readonly RuleEntry[] = [
    { code: 'HPL001', name: 'dropout-before-batchnorm' },
    { code: 'HPL002', name: 'bias-before-batchnorm' },
    { code: 'HPL003', name: 'lr-linear-sampling' },
    { code: 'HPL004', name: 'momentum-linear-sampling' },
    { code: 'HPL005', name: 'rnn-without-grad-clipping' },
    { code: 'HPL006', name: 'batch-size-too-large' },
    { code: 'HPL007', name: 'adam-non-default-hyperparameters' },
    { code: 'HPL008', name: 'dropout-active-at-eval' },
    { code: 'HPL009', name: 'batch-size-too-small-for-batchnorm' },
    { code: 'HPL010', name: '' },
];

export const RULE_CODE = /^HPL\d{3}$/;

/** Normalise user input (`hpl1`, ` HPL001 `) to a code, or undefined. */
export function normaliseRuleCode(input: string): string | undefined {
    const match = /^\s*hpl\s*0*(\d{1,3})\s*$/i.exec(input);
    if (!match) {
        return undefined;
    }
    return `HPL${match[1].padStart(3, '0')}`;
}
