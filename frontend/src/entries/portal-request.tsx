import { Portal } from '../pages/Portal';
import { start } from '../shell';

void start((context) => <Portal {...context} />);
