// The mult-agentes extension: one command that shows which version of the
// extension and of the Python package (when installed) are in use.
'use strict';

const vscode = require('vscode');
const { execFile } = require('child_process');

/** @param {vscode.ExtensionContext} context */
function activate(context) {
  const disposable = vscode.commands.registerCommand('multAgentes.showVersion', () => {
    const extVersion = context.extension.packageJSON.version;
    const python = vscode.workspace.getConfiguration('python').get('defaultInterpreterPath') || 'python3';
    execFile(python, ['-c', 'import importlib.metadata as m; print(m.version("mult-agentes"))'], (err, stdout) => {
      const pyVersion = err ? 'not installed' : stdout.trim();
      vscode.window.showInformationMessage(`Mult Agentes extension ${extVersion}; Python package ${pyVersion}`);
    });
  });
  context.subscriptions.push(disposable);
}

function deactivate() {}

module.exports = { activate, deactivate };
