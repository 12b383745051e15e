import { IssueView } from '../pages/IssueView';
import { start } from '../shell';

void start((context) => <IssueView {...context} />);
